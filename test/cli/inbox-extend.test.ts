import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { parse } from "yaml";
import { runCli } from "../../src/cli/program.js";
import type { CommentState } from "../../src/lifecycle/codec.js";
import { APP_ID } from "../helpers/app.js";
import { CODEOWNERS, contents, grantYaml, OPEN_POLICY, POLICY } from "../helpers/fixtures.js";
import { githubApi } from "../helpers/github-mock.js";
import { pullRequest } from "../helpers/payloads.js";
import { mockApprovalReads, mockReads, mockTeamLists, type Scenario } from "../helpers/scenario.js";
import { guardNetwork } from "../helpers/setup-nock.js";
import { mockHead, mockRecord, mockRun, mockRuns, OTHER_APP, recordRun } from "./records.js";

guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
const R = "/repos/acme/access";
const quiet = () => {};
const github = () => new Octokit({ auth: "ghp_test", log: { debug: quiet, info: quiet, warn: quiet, error: quiet } });

async function jit(argv: string[], o: { env?: Record<string, string>; isTTY?: boolean } = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: process.cwd(), now: () => NOW, env: o.env ?? {}, github: github(), randomId: () => "a1b2", isTTY: o.isTTY ?? false });
  return { code, stdout, stderr };
}

/** Every request that reached the mock, matched or not: "created nothing" is then a fact, not an absence of evidence. */
let seen: string[] = [];
const onNoMatch = (req: { method?: string; path?: string }) => seen.push(`${req.method} ${req.path} (unmatched)`);
beforeEach(() => {
  seen = [];
  nock.emitter.on("no match", onNoMatch);
});
afterEach(() => {
  nock.emitter.removeListener("no match", onNoMatch);
});
function recorded(api: nock.Scope): nock.Scope {
  api.on("request", (req: { method: string; path: string }) => seen.push(`${req.method} ${req.path}`));
  return api;
}
const writes = () => seen.filter((r) => !r.startsWith("GET "));

const liveGrant = { requester: "alice", resource: "prod-db", role: "read-only", duration: "2h", reason: "Investigate INC-4211 slowness", ticket: "INC-4211" };

describe("jit extend", () => {
  const PATH = "grants/prod-db/alice-20261129-130000-a1b2.yaml";

  it("opens a request for the same access, starting at the live grant's end, linked to it", async () => {
    const api = recorded(githubApi());
    mockRecord(api, 7, { status: "APPROVED", grant: liveGrant, expires_at: "2026-11-29T14:30:00.000Z" });
    api.get("/user").reply(200, { login: "alice" });
    api.get(R).reply(200, { default_branch: "main", full_name: "acme/access" });
    api.get(`${R}/contents/${encodeURIComponent(".github/jit-access.yml")}`).query({ ref: "main" }).reply(200, contents(".github/jit-access.yml", POLICY));
    api.get(`${R}/contents/${encodeURIComponent(".github/CODEOWNERS")}`).query({ ref: "main" }).reply(200, contents(".github/CODEOWNERS", CODEOWNERS));
    api.get(`${R}/git/ref/heads%2Fmain`).reply(200, { object: { sha: "f".repeat(40) } });
    api.post(`${R}/git/refs`, { ref: "refs/heads/jit/alice-20261129-130000-a1b2", sha: "f".repeat(40) }).reply(201, {});
    let file: any;
    api.put(`${R}/contents/${encodeURIComponent(PATH)}`, (b) => ((file = b), true)).reply(201, {});
    let pr: any;
    api.post(`${R}/pulls`, (b) => ((pr = b), true)).reply(201, { html_url: "https://github.com/acme/access/pull/43", number: 43 });

    const r = await jit(["extend", "7", "--by", "1h", "--reason", "Migration still running", "--repo", "acme/access"]);
    api.done();
    expect(r).toEqual({ code: 0, stderr: "", stdout: "https://github.com/acme/access/pull/43\napprovers: @acme/dba, @acme/security\n" });
    expect(parse(Buffer.from(file.content, "base64").toString("utf8"))).toEqual({
      requester: "alice", resource: "prod-db", role: "read-only", duration: "1h", reason: "Migration still running (extends #7)", ticket: "INC-4211", start: "2026-11-29T14:30:00Z",
    });
    expect(pr.title).toBe("jit: alice → prod-db/read-only for 1h (extends #7)");
    expect(pr.body).toBe("Migration still running (extends #7)\n\nExtends #7: starts when its window ends, at 2026-11-29T14:30:00Z.\n\nOpened with `jit extend`.");
  });

  it.each([
    ["expired", { status: "EXECUTED", grant: liveGrant, expires_at: "2026-11-29T12:00:00.000Z", revoked_at: "2026-11-29T12:00:01.000Z" }, "it is not a live grant (it has expired)"],
    ["revoked", { status: "REVOKED", grant: liveGrant, revoked_at: "2026-11-29T12:00:01.000Z" }, "it is not a live grant (it was revoked)"],
    ["still pending", { status: "PENDING", grant: liveGrant, waiting_for: ["@acme/dba"] }, "it is not a live grant (it is still waiting for approval)"],
    ["scheduled", { status: "SCHEDULED", grant: liveGrant, starts_at: "2026-11-29T15:00:00.000Z" }, "it is not a live grant (it is approved but has not started yet)"],
    ["past its end", { status: "APPROVED", grant: liveGrant, expires_at: "2026-11-29T12:59:59.000Z" }, "its window closed at 2026-11-29T12:59:59.000Z"],
  ] as const)("refuses a grant that is %s, before reading anything else or creating anything (exit 1)", async (_what, state, why) => {
    const api = recorded(githubApi());
    mockRecord(api, 7, state as Omit<CommentState, "v">);
    const r = await jit(["extend", "#7", "--by", "1h", "--reason", "Migration still running", "--repo", "acme/access"]);
    api.done();
    expect(r).toEqual({ code: 1, stdout: "", stderr: `jit: #7 cannot be extended: ${why}; nothing was created\n` });
    expect(seen).toEqual([
      "GET /repos/acme/access/pulls/7",
      `GET /repos/acme/access/commits/${"7".padStart(40, "h")}/check-runs?check_name=jit-access&filter=all&per_page=100`,
      "GET /repos/acme/access/check-runs/507",
    ]);
  });

  it("refuses a PR whose only record is another app's look-alike run (named jit-access, same PR)", async () => {
    const api = recorded(githubApi());
    mockHead(api, 7);
    mockRuns(api, 7, [recordRun(7, { status: "APPROVED", grant: liveGrant, expires_at: "2026-11-29T14:30:00.000Z" }, { app: OTHER_APP })]);
    const r = await jit(["extend", "7", "--by", "1h", "--reason", "Migration still running", "--repo", "acme/access"]);
    api.done();
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("jit: #7 cannot be extended: jit-access has no record of a grant on it; nothing was created\n");
    expect(writes()).toEqual([]);
  });

  it("refuses a duration over the role's max_duration with jit request's own validation, before creating anything", async () => {
    const api = recorded(githubApi());
    mockRecord(api, 7, { status: "APPROVED", grant: liveGrant, expires_at: "2026-11-29T14:30:00.000Z" });
    api.get("/user").reply(200, { login: "alice" });
    api.get(R).reply(200, { default_branch: "main", full_name: "acme/access" });
    api.get(`${R}/contents/${encodeURIComponent(".github/jit-access.yml")}`).query({ ref: "main" }).reply(200, contents(".github/jit-access.yml", POLICY));
    const r = await jit(["extend", "7", "--by", "5h", "--reason", "Migration still running", "--repo", "acme/access"]);
    api.done();
    expect(r).toEqual({ code: 1, stdout: "", stderr: "jit: the request is not valid; nothing was created:\n  duration 5h is longer than 4h, the most prod-db/read-only allows\n" });
    expect(writes()).toEqual([]);
    expect(seen).toHaveLength(6);
  });

  it("refuses to extend someone else's grant (the extension would be the caller's), before creating anything", async () => {
    const api = recorded(githubApi());
    mockRecord(api, 7, { status: "APPROVED", grant: liveGrant, expires_at: "2026-11-29T14:30:00.000Z" });
    api.get("/user").reply(200, { login: "mallory" });
    const r = await jit(["extend", "7", "--by", "1h", "--reason", "Migration still running", "--repo", "acme/access"]);
    api.done();
    expect(r).toEqual({ code: 1, stdout: "", stderr: "jit: #7 is alice's grant: only they can extend it (you are mallory); nothing was created\n" });
    expect(writes()).toEqual([]);
  });

  it("exits 2 on a bad PR number or a missing --by, asking GitHub nothing", async () => {
    expect(await jit(["extend", "seven", "--by", "1h", "--reason", "x", "--repo", "acme/access"])).toEqual({ code: 2, stdout: "", stderr: "jit: <pr> must be a pull request number, not seven\n" });
    expect((await jit(["extend", "7", "--reason", "x", "--repo", "acme/access"])).code).toBe(2);
    expect(await jit(["extend", "7", "--by", "1h", "--reason", "  ", "--repo", "acme/access"])).toEqual({ code: 2, stdout: "", stderr: "jit: --reason must say why you need more time\n" });
    expect(seen).toEqual([]);
  });
});

describe("jit inbox", () => {
  // I am carol, in @acme/dba and not in @acme/security; CODEOWNERS asks both for prod-db grants.
  const request = (number: number, author: string, createdAt: string, extra: Partial<Scenario> = {}): Scenario => ({
    pr: { number, author, headSha: `${number}`.padStart(40, "a"), createdAt },
    files: [{ filename: `grants/prod-db/${author}-1.yaml`, status: "added", content: grantYaml({ requester: author }) }],
    policy: OPEN_POLICY,
    codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS },
    ...extra,
  });
  function mockInbox(api: nock.Scope) {
    api.get("/user").reply(200, { login: "carol" });
    api.get(R).reply(200, { default_branch: "main", full_name: "acme/access" });
    const mine = request(20, "carol", "2026-11-29T09:00:00Z");
    const waiting = request(21, "alice", "2026-11-29T12:00:00Z");
    const dbaApproved = request(22, "bob", "2026-11-29T10:00:00Z", { reviews: [{ login: "dave", state: "APPROVED" }] });
    const myCommit = request(23, "erin", "2026-11-29T11:00:00Z", { commits: [{ author: "erin", committer: "erin" }, { author: "carol", committer: "carol" }] });
    const securityApproved = request(24, "frank", "2026-11-29T09:30:00Z", { reviews: [{ login: "sam", state: "APPROVED" }] });
    // Older than prod-db/read-only's pending_timeout (4h): the app rejects it, so it waits for nobody.
    const timedOut = request(25, "gina", "2026-11-29T08:30:00Z");
    // Listed out of order, to show the order is the command's own.
    api
      .get(`${R}/pulls`)
      .query({ state: "open", base: "main", sort: "created", direction: "asc", per_page: 100 })
      .reply(200, [waiting, myCommit, dbaApproved, securityApproved, mine, timedOut].map((s) => pullRequest(s.pr)));
    for (const s of [waiting, dbaApproved, myCommit, securityApproved, timedOut]) {
      mockReads(api, { ...s, reader: "app", byCli: true });
      // The CLI does not check the policy's provenance: it only displays (the app's check does).
      mockApprovalReads(api, { ...s, reader: "app", byCli: true });
    }
    // Each team's members are read once for the whole inbox (carol's groups, and the reviewers').
    mockTeamLists(api, { "@acme/dba:carol": "active", "@acme/dba:dave": "active", "@acme/security:sam": "active" });
  }

  it("lists what waits for me, oldest first, without my own requests, PRs with my commits, requests my groups approved, or timed-out ones", async () => {
    const api = recorded(githubApi());
    mockInbox(api);
    const r = await jit(["inbox", "--repo", "acme/access"], { env: { JIT_APP_ID: String(APP_ID), NO_COLOR: "1" }, isTTY: true });
    api.done();
    expect(r).toEqual({
      code: 0,
      stderr: "",
      stdout:
        "#24  3h30m old  frank  prod-db/read-only for 2h  needs @acme/dba (you)                  https://github.com/acme/access/pull/24\n" +
        "#21  1h old     alice  prod-db/read-only for 2h  needs @acme/dba (you), @acme/security  https://github.com/acme/access/pull/21\n",
    });
    // My own request (#20) was never even read.
    expect(seen.filter((s) => s.includes("/pulls/20"))).toEqual([]);
    expect(writes()).toEqual([]);
  });

  it("gives machines JSON with the same rows", async () => {
    const api = githubApi();
    mockInbox(api);
    const r = await jit(["inbox", "--json", "--repo", "acme/access"], { env: { JIT_APP_ID: String(APP_ID) } });
    api.done();
    const rows = JSON.parse(r.stdout);
    expect(rows.map((x: any) => [x.pr, x.requester, x.resource, x.role, x.duration, x.age, x.missing, x.mine, x.url])).toEqual([
      [24, "frank", "prod-db", "read-only", "2h", "3h30m", ["@acme/dba"], ["@acme/dba"], "https://github.com/acme/access/pull/24"],
      [21, "alice", "prod-db", "read-only", "2h", "1h", ["@acme/dba", "@acme/security"], ["@acme/dba"], "https://github.com/acme/access/pull/21"],
    ]);
  });

  it("says so when nothing waits", async () => {
    const api = githubApi();
    api.get("/user").reply(200, { login: "carol" });
    api.get(R).reply(200, { default_branch: "main", full_name: "acme/access" });
    api.get(`${R}/pulls`).query({ state: "open", base: "main", sort: "created", direction: "asc", per_page: 100 }).reply(200, []);
    api.get("/apps/jit-access").reply(200, { id: APP_ID, slug: "jit-access" });
    const r = await jit(["inbox", "--repo", "acme/access"], { isTTY: true });
    api.done();
    expect(r).toEqual({ code: 0, stderr: "", stdout: "nothing waits for your approval\n" });
  });
});
