import { beforeEach, describe, expect, it } from "@jest/globals";
import type { Probot } from "probot";
import { readState } from "../src/lifecycle/codec.js";
import { PROVIDER_NAMES } from "../src/providers/table.js";
import { deliver, fixedClock, mockInstallationToken, startApp, startAppWithScheduler } from "./helpers/app.js";
import { CODEOWNERS, grantYaml, HEAD, POLICY, visible } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { pullRequest, pullRequestEvent } from "./helpers/payloads.js";
import { failedRequest, mainHead, mockApprovalReads, mockMainHead, mockReads, mockTeamLists, prFields, R, type Scenario } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
let probot: Probot;
beforeEach(async () => {
  probot = await startApp(NOW);
});

const GRANT_PATH = "grants/prod-db/alice-2026-11-29.yaml";

function request(content: string, extra: Partial<Scenario> = {}): Scenario {
  return {
    pr: prFields(),
    files: [{ filename: GRANT_PATH, status: "added", content }],
    policy: POLICY,
    codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS },
    memberships: { "@acme/engineering:alice": "active" },
    ...extra,
  };
}

describe("a pull request in a repository without a policy", () => {
  it("is left alone: two reads, no writes", async () => {
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, { pr: prFields(), files: [], policy: null });
    await deliver(probot, "pull_request", pullRequestEvent("opened", prFields()));
    api.done();
  });
});

describe("a valid request", () => {
  it("gets an in-progress check, the jit:pending label and one status comment", async () => {
    const sc = request(grantYaml());
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc);
    mockApprovalReads(api, sc);
    let check: any;
    api.post(`${R}/check-runs`, (body) => ((check = body), true)).reply(201, { id: 1 });
    api.post(`${R}/issues/7/labels`, { labels: ["jit:pending"] }).reply(200, []);
    let comment: any;
    api.post(`${R}/issues/7/comments`, (body) => ((comment = body), true)).reply(201, { id: 55 });

    await deliver(probot, "pull_request", pullRequestEvent("opened", sc.pr));
    api.done();

    expect(check).toMatchObject({ name: "jit-access", head_sha: HEAD, status: "in_progress", output: { title: "Waiting for approvals", annotations: [] } });
    expect(check.conclusion).toBeUndefined();
    expect(visible(check.output.summary)).toContain("⏳ @acme/dba: 0/1");
    expect(visible(check.output.summary)).toContain("⏳ @acme/security: 0/1");
    expect(comment.body.startsWith("<!-- jit-access:status -->")).toBe(true);
    expect(comment.body).toContain("| Reason | Investigate INC-4211: slow checkout queries |");
    expect(visible(comment.body)).toContain("| Reason | Investigate INC-4211: slow checkout queries |");
    expect(comment.body).toMatch(/\n<!-- jit-access:state \{.*\} -->\n$/);
    expect(readState(comment.body)).toMatchObject({ v: 1, status: "PENDING", path: "grants/prod-db/alice-2026-11-29.yaml", waiting_for: ["@acme/dba", "@acme/security"], grant: { requester: "alice" } });
    expect(readState(comment.body)!.blob).toMatch(/^[0-9a-f]{40}$/);
  });

  it("redelivered, finds its comment and check unchanged and writes nothing", async () => {
    const sc = request(grantYaml());
    // First delivery, to learn what the app writes.
    const first = githubApi();
    mockInstallationToken(first);
    mockReads(first, sc);
    mockApprovalReads(first, sc);
    let check: any;
    let comment: any;
    first.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 1 });
    first.post(`${R}/issues/7/labels`).reply(200, []);
    first.post(`${R}/issues/7/comments`, (b) => ((comment = b), true)).reply(201, { id: 55 });
    await deliver(probot, "pull_request", pullRequestEvent("opened", sc.pr));
    first.done();

    // The redelivery sees that state on GitHub: it reads, and writes nothing.
    expect(check.output.text).toBe(comment.body); // the record (the check run) and its display agree
    const again: Scenario = {
      ...sc,
      pr: { ...sc.pr, labels: ["jit:pending"] },
      comments: [{ id: 55, login: "", body: comment.body, byApp: true }],
      checkRuns: [{ id: 1, external_id: "acme/access#7", app: { id: 123 }, status: "in_progress", conclusion: null, output: check.output }],
    };
    const api = githubApi();
    mockReads(api, again);
    mockApprovalReads(api, again);
    await deliver(probot, "pull_request", pullRequestEvent("synchronize", again.pr));
    api.done();
  });

  it("does not trust a look-alike status comment written by a person", async () => {
    const forged = "<!-- jit-access:status -->\nall good\n<!-- jit-access:state {\"v\":1,\"status\":\"APPROVED\"} -->";
    const sc = request(grantYaml(), { comments: [{ id: 9, login: "mallory", body: forged }] });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc);
    mockApprovalReads(api, sc);
    api.post(`${R}/check-runs`).reply(201, { id: 1 });
    api.post(`${R}/issues/7/labels`).reply(200, []);
    api.post(`${R}/issues/7/comments`).reply(201, { id: 56 }); // a new comment of its own, not an edit of #9
    await deliver(probot, "pull_request", pullRequestEvent("opened", sc.pr));
    api.done();
  });
});

describe("an invalid request", () => {
  it("fails the check with annotations on the exact YAML lines, and carries no status label", async () => {
    const content = grantYaml({ duration: "6h", colour: "blue" });
    const sc = request(content, { pr: prFields({ labels: ["jit:pending"] }) });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc);
    let check: any;
    api.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 1 });
    api.delete(`${R}/issues/7/labels/jit%3Apending`).reply(200, []);
    let comment: any;
    api.post(`${R}/issues/7/comments`, (b) => ((comment = b), true)).reply(201, { id: 55 });
    await deliver(probot, "pull_request", pullRequestEvent("opened", sc.pr));
    api.done();

    expect(check).toMatchObject({ status: "completed", conclusion: "failure", output: { title: "The request has 1 problem" } });
    // The schema refuses the unknown key first; "colour" is on line 6.
    expect(check.output.annotations).toEqual([
      { path: GRANT_PATH, start_line: 6, end_line: 6, start_column: 1, end_column: 7, annotation_level: "failure", message: 'unknown key "colour"', title: "jit-access" },
    ]);
    expect(comment.body).toContain("⚠️ Invalid request");
    expect(comment.body).toContain('unknown key "colour"');
  });

  it("reports rule errors (duration over the role's maximum) at the value's line", async () => {
    const { check } = await failedRequest(probot, request(grantYaml({ duration: "6h" })), "full", (api) => {
      // The requester allow-list is checked before the rules report.
      mockTeamLists(api, { "@acme/engineering:alice": "active" });
    });
    expect(check.output.annotations).toEqual([
      expect.objectContaining({ start_line: 4, end_line: 4, start_column: 11, end_column: 13, message: "duration 6h is longer than 4h, the most prod-db/read-only allows" }),
    ]);
  });

  it("refuses a request from a fork before reading its content", async () => {
    const { check } = await failedRequest(probot, request(grantYaml(), { pr: prFields({ fork: true }) }), "through-comments");
    expect(check.output.annotations[0].message).toBe("requests from forks are refused: push the branch to the access repository itself");
  });

  it("refuses a request that changes other files too", async () => {
    const sc = request(grantYaml(), { pr: prFields({ changedFiles: 2 }) });
    sc.files.push({ filename: "README.md", status: "modified", content: "hi" });
    const { check } = await failedRequest(probot, sc, "through-comments");
    expect(check.conclusion).toBe("failure");
    expect(check.output.annotations.map((a: any) => [a.path, a.message])).toEqual([
      ["README.md", "a request pull request may only add one grant file; move other changes to their own pull request"],
    ]);
  });

  it("refuses hostile YAML (an alias bomb) with a clear error and no crash", async () => {
    const bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n';
    const { check } = await failedRequest(probot, request(bomb), "full");
    expect(check.conclusion).toBe("failure");
    expect(check.output.annotations[0]).toMatchObject({ start_line: 1, message: "YAML anchors (&a) are not allowed" });
  });
});

describe("the policy", () => {
  it("when broken on the default branch, fails every request closed and says what to fix", async () => {
    const { check } = await failedRequest(probot, request(grantYaml(), { policy: POLICY.replace("provider: postgres", "provider: oracle") }), "full");
    expect(check).toMatchObject({ conclusion: "failure", output: { title: "The access policy is broken" } });
    expect(check.output.annotations).toEqual([
      expect.objectContaining({ path: ".github/jit-access.yml", start_line: 13, message: `unknown provider "oracle"; known providers: ${PROVIDER_NAMES.join(", ")}` }),
    ]);
  });

  it("changed by a pull request, is validated as a check before it can merge", async () => {
    const proposed = POLICY.replace("max_duration: 4h", "max_duration: four hours");
    const pr = prFields({ number: 8, author: "sec-admin" });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, { pr, files: [{ filename: ".github/jit-access.yml", status: "modified", content: proposed }], policy: POLICY }, "policy-only");
    api.get(`${R}/contents/${encodeURIComponent(".github/jit-access.yml")}`).query({ ref: HEAD }).reply(200, (await import("./helpers/fixtures.js")).contents(".github/jit-access.yml", proposed));
    let check: any;
    api.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 1 });
    await deliver(probot, "pull_request", pullRequestEvent("opened", pr));
    api.done();
    expect(check).toMatchObject({ conclusion: "failure", output: { title: "The new policy has 1 error" } });
    expect(check.output.annotations).toEqual([
      expect.objectContaining({
        path: ".github/jit-access.yml",
        start_line: 17,
        message: 'resources.prod-db.roles.read-only.max_duration must be a duration such as 30m, 2h, 1h30m or 1d (units d, h, m in that order); got "four hours"',
      }),
    ]);
  });
});

describe("webhooks are answered at once", () => {
  it("the delivery is acknowledged while its evaluation still waits on GitHub; the evaluation then finishes", async () => {
    const { probot, app } = await startAppWithScheduler(fixedClock(NOW));
    const sc = request(grantYaml());
    const api = githubApi();
    mockInstallationToken(api);
    let answer!: () => void;
    const held = new Promise<void>((r) => (answer = r));
    // GitHub is slow to answer the first read: the handler must not wait for it.
    api.get(`${R}/pulls/7`).reply(async () => {
      await held;
      return [200, pullRequest(sc.pr)];
    });
    await probot.receive({ id: "slow-1", name: "pull_request", payload: pullRequestEvent("opened", sc.pr) } as Parameters<typeof probot.receive>[0]);
    expect(app.queue.depth).toBe(1); // acknowledged; the evaluation is still running
    // The same event again, twice, while it runs: coalesced into one more evaluation, not two.
    await probot.receive({ id: "slow-2", name: "pull_request", payload: pullRequestEvent("synchronize", sc.pr) } as Parameters<typeof probot.receive>[0]);
    await probot.receive({ id: "slow-3", name: "pull_request", payload: pullRequestEvent("synchronize", sc.pr) } as Parameters<typeof probot.receive>[0]);
    expect(app.queue.depth).toBe(2);
    // First evaluation: the PR has lost its policy meanwhile (three reads: the PR, main's head, the
    // policy there); the coalesced one: the PR and main's head, which has not moved: no policy, known.
    const head = mainHead({ ...sc, policy: null });
    mockMainHead(api, head);
    api.get(`${R}/contents/${encodeURIComponent(".github/jit-access.yml")}`).query({ ref: head }).reply(404, { message: "Not Found" });
    api.get(`${R}/pulls/7`).reply(200, pullRequest(sc.pr));
    mockMainHead(api, head);
    answer();
    await app.queue.idle();
    api.done();
  });
});
