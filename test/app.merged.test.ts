import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import type { Probot } from "probot";
import { readState } from "../src/lifecycle/codec.js";
import { APP_ID, deliver, mockInstallationToken, startApp } from "./helpers/app.js";
import { blobSha, CODEOWNERS, grantYaml, HEAD, POLICY, visible } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { commentEvent, pullRequestEvent } from "./helpers/payloads.js";
import { startReceiver, type Receiver } from "./helpers/receiver.js";
import { mockApprovalReads, mockFreshRecord, mockGrantOnMain, mockReads, mockRecordWrites, mockTeamLists, mockTree, prFields, R, recordRun, type Scenario } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
const PATH = "grants/prod-admins/alice-1.yaml";
const TEAM = "/orgs/acme/teams/prod-admins/memberships/alice";
const CONTENT = grantYaml({ resource: "prod-admins", role: "member", duration: "2h" });

function merged(extra: Partial<Scenario> = {}, content = CONTENT): Scenario {
  return {
    pr: prFields({ state: "closed", merged: true, labels: ["jit:pending"] }),
    files: [{ filename: PATH, status: "added", content }],
    policy: POLICY,
    codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS },
    reviews: [{ login: "pat", state: "APPROVED" }],
    comments: [{ id: 55, login: "", byApp: true, body: "<!-- jit-access:status -->\nApproved\n<!-- jit-access:state {\"v\":1,\"status\":\"PENDING\"} -->\n" }],
    ...extra,
    memberships: { "@acme/engineering:alice": "active", ...(extra.memberships ?? { "@acme/platform:pat": "active" }) },
  };
}

const MAIN_SHA = "f".repeat(40);
const REVERT_SHA = "c".repeat(40);
const exactDeletion = { status: "ahead", ahead_by: 1, behind_by: 0, total_commits: 1, commits: [{ sha: REVERT_SHA }], files: [{ filename: PATH, status: "removed" }] };
const revertPull = (number: number, sha: string) => ({
  number, html_url: `https://github.com/acme/access/pull/${number}`, state: "open", merged_at: null, labels: [],
  head: { ref: "jit-access/revert-7", sha, repo: { full_name: "acme/access" } }, base: { ref: "main" },
});

/** No PR on `branch`: it is created at main's head and the grant file deleted there in one commit, REVERT_SHA. */
function mockFreshRevert(api: ReturnType<typeof githubApi>, branch: string) {
  api.get(`${R}/pulls`).query({ head: `acme:${branch}`, state: "all", per_page: 100 }).reply(200, []);
  api.get(`${R}/git/ref/heads%2Fmain`).reply(200, { ref: "refs/heads/main", object: { sha: MAIN_SHA, type: "commit" } });
  api.post(`${R}/git/refs`, { ref: `refs/heads/${branch}`, sha: MAIN_SHA }).reply(201, { ref: `refs/heads/${branch}`, object: { sha: MAIN_SHA } });
  api
    .delete(`${R}/contents/${encodeURIComponent(PATH)}`, (b: any) => b.sha === blobSha(CONTENT) && b.branch === branch)
    .reply(200, { content: null, commit: { sha: REVERT_SHA, parents: [{ sha: MAIN_SHA }] } });
}

/** Captures every edit of the status comment, in order; each is preceded by the same write to the record. */
function captureComment(api: ReturnType<typeof githubApi>, times: number, bodies: string[], records: string[] = []) {
  mockRecordWrites(api, times, records);
  for (let i = 0; i < times; i++) api.patch(`${R}/issues/comments/55`, (b: any) => (bodies.push(b.body), true)).reply(200, {});
}

/**
 * An apply's writes: the record twice (the standing, before the apply; the outcome) and its display
 * once, after the apply (a display write inside the requester's turn would hold the apply up).
 */
function captureApply(api: ReturnType<typeof githubApi>, bodies: string[], records: string[] = []) {
  mockRecordWrites(api, 2, records);
  api.patch(`${R}/issues/comments/55`, (b: any) => (bodies.push(b.body), true)).reply(200, {});
}

/**
 * The first evaluation of a merged request: every read (the merged content re-judged), the fresh
 * re-read of the status comment before the standing check, and the standing check itself.
 */
function mockFirstApply(api: ReturnType<typeof githubApi>, sc: Scenario, standing: "member" | "not-member" | "none") {
  mockInstallationToken(api);
  mockReads(api, sc);
  mockApprovalReads(api, sc);
  mockFreshRecord(api, sc.comments![0]!.body);
  mockTree(api, [{ path: sc.files[0]!.filename, content: sc.files[0]!.content! }]); // no other grant of hers on main
  if (standing === "member") api.get(TEAM).reply(200, { state: "active", role: "member" });
  if (standing === "not-member") api.get(TEAM).reply(404, { message: "Not Found" });
}

describe("a merged request whose policy was met", () => {
  it("records standing access first, applies through the provider, then labels it jit:approved with its window", async () => {
    const probot = await startApp(NOW);
    const sc = merged();
    const api = githubApi();
    mockFirstApply(api, sc, "not-member"); // not a member before: nothing standing
    api.get(TEAM).reply(404, { message: "Not Found" }); // the provider reads the role before it writes one
    api.put(TEAM, { role: "member" }).reply(200, { state: "active" });
    const bodies: string[] = [];
    const records: string[] = [];
    captureApply(api, bodies, records);
    api.put(`${R}/issues/7/labels`, { labels: ["jit:approved"] }).reply(200, []);
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
    expect(records[1]).toEqual(bodies[0]); // the record first, then its display: the same text

    expect(readState(records[0]!)).toMatchObject({ status: "APPLYING", standing: [] });
    const state = readState(bodies[0]!)!;
    expect(state).toMatchObject({ status: "APPROVED", standing: [], applied_at: NOW.toISOString(), starts_at: NOW.toISOString(), expires_at: "2026-11-29T15:00:00.000Z" });
    expect(state.grant).toMatchObject({ requester: "alice", resource: "prod-admins", role: "member", duration: "2h" });
    expect(visible(bodies[0]!)).toContain("| Window | 2026-11-29 13:00 UTC → **2026-11-29 15:00 UTC** |");
    expect(visible(bodies[0]!)).toContain("| Applied | 2026-11-29 13:00 UTC: membership of alice in the GitHub team acme/prod-admins |");
  });

  it("records membership the requester already had, so the revoke will keep it", async () => {
    const probot = await startApp(NOW);
    const sc = merged();
    const api = githubApi();
    mockFirstApply(api, sc, "member");
    // Held already: her merged requests showing a live or applying grant are asked too (none here).
    for (const label of ["jit:approved", "jit:pending"]) {
      api.get("/search/issues").query({ q: `repo:acme/access is:pr is:merged author:alice label:"${label}"`, per_page: 20 }).reply(200, { total_count: 0, incomplete_results: false, items: [] });
    }
    api.get(TEAM).reply(200, { state: "active", role: "member" }); // already a member: nothing to write
    const bodies: string[] = [];
    captureApply(api, bodies);
    api.put(`${R}/issues/7/labels`).reply(200, []);
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
    expect(readState(bodies[0]!)!.standing).toEqual(["github-team:acme/prod-admins:alice"]);
  });

  it("redelivered after it was applied: reads four things, applies nothing, writes nothing", async () => {
    const probot = await startApp(NOW);
    const applied = `<!-- jit-access:status -->\nGranted\n<!-- jit-access:state ${JSON.stringify({ v: 1, status: "APPROVED", grant: { requester: "alice", resource: "prod-admins", role: "member", duration: "2h", reason: "x" } })} -->\n`;
    const sc = merged({ pr: prFields({ state: "closed", merged: true, labels: ["jit:approved"] }), comments: [{ id: 55, login: "", byApp: true, body: applied }] });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments");
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
  });

  it("a failed apply is shown with the provider's error and retried with backoff; it is not APPROVED until applied", async () => {
    const sc = merged();
    const api = githubApi();
    mockFirstApply(api, sc, "not-member");
    api.get(TEAM).reply(404, { message: "Not Found" });
    api.put(TEAM).reply(403, { message: "Resource not accessible by integration" });
    const bodies: string[] = [];
    captureApply(api, bodies);
    await deliver(await startApp(NOW), "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
    const failed = readState(bodies[0]!)!;
    expect(failed).toMatchObject({ status: "APPLYING", standing: [], attempts: 1, next_attempt_at: "2026-11-29T13:00:01.000Z" });
    expect(failed.error).toBe("adding alice in acme/prod-admins failed: Resource not accessible by integration");
    expect(visible(bodies[0]!)).toContain("Attempt 1 failed: adding alice in acme/prod-admins failed: Resource not accessible by integration");

    // Before the backoff has passed, the state alone says to wait: four reads, nothing else.
    const waiting = merged({ comments: [{ id: 55, login: "", byApp: true, body: bodies[0]! }] });
    const early = githubApi();
    mockInstallationToken(early);
    mockReads(early, waiting, "through-comments");
    mockGrantOnMain(early, PATH, CONTENT); // not applied yet: is its file still on main?
    await deliver(await startApp(new Date("2026-11-29T13:00:00.500Z")), "pull_request", pullRequestEvent("closed", waiting.pr));
    early.done();

    // After it, the retry uses the recorded standing (no second look) and succeeds.
    const retry = githubApi();
    mockInstallationToken(retry);
    mockReads(retry, waiting, "through-comments");
    mockGrantOnMain(retry, PATH, CONTENT);
    retry.get(TEAM).reply(404, { message: "Not Found" });
    retry.put(TEAM).reply(200, { state: "active" });
    const after: string[] = [];
    captureComment(retry, 1, after);
    retry.put(`${R}/issues/7/labels`, { labels: ["jit:approved"] }).reply(200, []);
    await deliver(await startApp(new Date("2026-11-29T13:02:00Z")), "pull_request", pullRequestEvent("closed", waiting.pr));
    retry.done();
    // Applied two minutes late, it still ends when planned: the window is fixed by the merge, not the apply.
    expect(readState(after[0]!)).toMatchObject({ status: "APPROVED", standing: [], applied_at: "2026-11-29T13:02:00.000Z", starts_at: "2026-11-29T13:00:00.000Z", expires_at: "2026-11-29T15:00:00.000Z" });
  });

  it("with a scheduled start in the future, waits and says so; at the start it applies", async () => {
    const content = grantYaml({ resource: "prod-admins", role: "member", duration: "2h", start: "2026-11-29T14:00:00Z" });
    const sc = merged({}, content);
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc);
    mockApprovalReads(api, sc);
    const bodies: string[] = [];
    captureComment(api, 1, bodies);
    await deliver(await startApp(NOW), "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
    expect(readState(bodies[0]!)).toMatchObject({ status: "SCHEDULED", starts_at: "2026-11-29T14:00:00.000Z", expires_at: "2026-11-29T16:00:00.000Z" });
    expect(visible(bodies[0]!)).toContain("🕒 Approved and scheduled");

    const later = merged({ comments: [{ id: 55, login: "", byApp: true, body: bodies[0]! }] }, content);
    const due = githubApi();
    mockInstallationToken(due);
    mockReads(due, later, "through-comments");
    mockGrantOnMain(due, PATH, content);
    mockFreshRecord(due, bodies[0]!);
    mockTree(due, [{ path: PATH, content }]);
    due.get(TEAM).reply(404, { message: "Not Found" });
    due.get(TEAM).reply(404, { message: "Not Found" });
    due.put(TEAM).reply(200, { state: "active" });
    const after: string[] = [];
    captureApply(due, after);
    due.put(`${R}/issues/7/labels`).reply(200, []);
    // Applied just before its start (an extension is then live when the grant it continues ends: no gap).
    await deliver(await startApp(new Date("2026-11-29T13:59:59Z")), "pull_request", pullRequestEvent("closed", later.pr));
    due.done();
    // The window is the approved one, start to start + duration, whenever it was applied.
    expect(readState(after[0]!)).toMatchObject({ status: "APPROVED", starts_at: "2026-11-29T14:00:00.000Z", applied_at: "2026-11-29T13:59:59.000Z", expires_at: "2026-11-29T16:00:00.000Z" });
  });
});

describe("a merged grant that has not started yet", () => {
  const content = grantYaml({ resource: "prod-admins", role: "member", duration: "2h", start: "2026-11-29T14:00:00Z" });
  const scheduled = '<!-- jit-access:status -->\nscheduled\n<!-- jit-access:state {"v":1,"status":"SCHEDULED","grant":{"requester":"alice","resource":"prod-admins","role":"member","duration":"2h","reason":"Investigate INC-4211: slow checkout queries","start":"2026-11-29T14:00:00Z"},"approvers":["pat"],"starts_at":"2026-11-29T14:00:00.000Z","expires_at":"2026-11-29T16:00:00.000Z"} -->\n';
  const withCommand = (login: string) =>
    merged({ comments: [{ id: 55, login: "", byApp: true, body: scheduled }, { id: 60, login, body: "/jit revoke not needed any more", createdAt: "2026-11-29T13:30:00Z" }], checkRuns: [recordRun(scheduled)] }, content);

  it("`/jit revoke` by the requester withdraws it: REVOKED, never applied, and it stays so at its start", async () => {
    const sc = withCommand("alice");
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments");
    mockGrantOnMain(api, PATH, content);
    const bodies: string[] = [];
    captureComment(api, 1, bodies);
    api.put(`${R}/issues/7/labels`, { labels: ["jit:revoked"] }).reply(200, []);
    await deliver(await startApp(new Date("2026-11-29T13:31:00Z")), "issue_comment", commentEvent(sc.pr, { id: 60, login: "alice", body: "/jit revoke not needed any more", createdAt: "2026-11-29T13:30:00Z" }));
    api.done(); // no membership read or PUT: nothing applied
    expect(readState(bodies[0]!)).toMatchObject({ status: "REVOKED", withdrawn_by: "alice", ended_by: "withdrawn by alice before it started: not needed any more" });
    expect(visible(bodies[0]!)).toContain("🛑 Withdrawn before it started");

    // At its start the record decides: nothing is applied.
    const atStart = { ...sc, pr: { ...sc.pr, labels: ["jit:revoked"] }, comments: [{ id: 55, login: "", byApp: true, body: bodies[0]! }], checkRuns: [recordRun(bodies[0]!)] };
    const later = githubApi();
    mockInstallationToken(later);
    mockReads(later, atStart, "through-comments");
    await deliver(await startApp(new Date("2026-11-29T14:00:00Z")), "pull_request", pullRequestEvent("closed", atStart.pr));
    later.done();
  });

  it("`/jit revoke` by someone who may not revoke is refused once, and the grant stays scheduled", async () => {
    const sc = withCommand("mallory");
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments");
    mockGrantOnMain(api, PATH, content);
    const bodies: string[] = [];
    captureComment(api, 1, bodies);
    mockTeamLists(api, { "@acme/security:mallory": "none" }); // not a policy admin
    let reply: any;
    api.post(`${R}/issues/7/comments`, (b) => ((reply = b), true)).reply(201, { id: 61 });
    await deliver(await startApp(new Date("2026-11-29T13:31:00Z")), "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
    expect(reply.body).toContain("@mallory `/jit revoke` was not carried out");
    expect(readState(bodies[0]!)).toMatchObject({ status: "SCHEDULED", answered_through: 60, refused_count: 1 });
  });
});

describe("a merge that bypassed the policy", () => {
  it("applies nothing, labels jit:rejected, opens and merges a revert PR, and explains", async () => {
    const probot = await startApp(NOW);
    const sc = merged({ reviews: [], memberships: {} }); // an admin merged without any approval
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc);
    mockApprovalReads(api, sc);
    mockFreshRevert(api, "jit-access/revert-7");
    let revert: any;
    api.post(`${R}/pulls`, (b) => ((revert = b), true)).reply(201, { number: 8, html_url: "https://github.com/acme/access/pull/8" });
    let check: any;
    api.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 3 });
    api.put(`${R}/pulls/8/merge`, (b: any) => b.sha === REVERT_SHA).reply(200, { merged: true });
    api.get(`${R}/pulls/8`).reply(200, { number: 8, merged: true, base: { ref: "main" } });
    api.put(`${R}/issues/7/labels`, { labels: ["jit:rejected"] }).reply(200, []);
    const bodies: string[] = [];
    captureComment(api, 1, bodies);
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done(); // and no team membership call was made

    expect(revert).toMatchObject({ head: "jit-access/revert-7", base: "main", title: "jit: revert #7 (merged without meeting the policy)" });
    expect(check).toMatchObject({ name: "jit-access", head_sha: REVERT_SHA, status: "completed", conclusion: "success", output: { title: "Records the end of a grant" } });
    expect(readState(bodies[0]!)).toMatchObject({ status: "REJECTED", revert_pr: 8 });
    expect(visible(bodies[0]!)).toContain("merged although the required approvals were not complete. jit-access applied nothing");
  });

  it("finds its own revert PR on a redelivery instead of opening another; a blocked merge is labelled and reported", async () => {
    const probot = await startApp(NOW);
    const sc = merged({ reviews: [], memberships: {} });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc);
    mockApprovalReads(api, sc);
    api.get(`${R}/pulls`).query({ head: "acme:jit-access/revert-7", state: "all", per_page: 100 }).reply(200, [revertPull(8, REVERT_SHA)]);
    api.get(`${R}/compare/main...${REVERT_SHA}`).query({ per_page: 2 }).reply(200, exactDeletion);
    // Given on the first attempt: not repeated. (The revert's own check, not a record: any jit-access run on the head, this app's found among them.)
    api
      .get(`${R}/commits/${REVERT_SHA}/check-runs`)
      .query({ check_name: "jit-access", filter: "latest", per_page: 100 })
      .reply(200, { total_count: 1, check_runs: [{ id: 3, app: { id: APP_ID }, status: "completed", conclusion: "success" }] });
    api.put(`${R}/pulls/8/merge`, (b: any) => b.sha === REVERT_SHA).reply(405, { message: "Required status check \"ci\" is expected." });
    api.get(`${R}/pulls/8`).reply(200, { number: 8, merged: false });
    api.post(`${R}/issues/8/labels`, { labels: ["jit:revert-blocked"] }).reply(200, []);
    api.put(`${R}/issues/7/labels`, { labels: ["jit:rejected", "jit:revert-blocked"] }).reply(200, []); // so the sweep finds it again
    const bodies: string[] = [];
    captureComment(api, 1, bodies);
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
    expect(visible(bodies[0]!)).toContain('The revert pull request #8 could not be merged: Required status check "ci" is expected.');
    expect(readState(bodies[0]!)).toMatchObject({ status: "REJECTED", revert_pr: 8, revert_pending: true });
  });
});

describe("a revert branch prepared by someone else", () => {
  it("is never merged: its PR is labelled jit:revert-refused, an alert is logged, and the app reverts from a fresh branch and says so", async () => {
    const probot = await startApp(NOW);
    const errors: string[] = [];
    const original = probot.log.error.bind(probot.log);
    probot.log.error = ((m: unknown) => (errors.push(String(m)), original(m as string))) as typeof probot.log.error;
    const sc = merged({ reviews: [], memberships: {} });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc);
    mockApprovalReads(api, sc);
    // #12 from jit-access/revert-7 deletes the grant file — and rewrites CODEOWNERS.
    const impostor = "e".repeat(40);
    api.get(`${R}/pulls`).query({ head: "acme:jit-access/revert-7", state: "all", per_page: 100 }).reply(200, [revertPull(12, impostor)]);
    api.get(`${R}/compare/main...${impostor}`).query({ per_page: 2 }).reply(200, { ...exactDeletion, files: [...exactDeletion.files, { filename: ".github/CODEOWNERS", status: "modified" }] });
    api.post(`${R}/issues/12/labels`, { labels: ["jit:revert-refused"] }).reply(200, []);
    mockFreshRevert(api, "jit-access/revert-7-2");
    api.post(`${R}/pulls`, (b: any) => b.head === "jit-access/revert-7-2" && b.base === "main").reply(201, { number: 13, html_url: "https://github.com/acme/access/pull/13" });
    api.post(`${R}/check-runs`, (b: any) => b.head_sha === REVERT_SHA && b.conclusion === "success").reply(201, { id: 3 });
    api.put(`${R}/pulls/13/merge`, (b: any) => b.sha === REVERT_SHA).reply(200, { merged: true });
    api.get(`${R}/pulls/13`).reply(200, { number: 13, merged: true, base: { ref: "main" } });
    api.put(`${R}/issues/7/labels`, { labels: ["jit:rejected"] }).reply(200, []);
    const bodies: string[] = [];
    captureComment(api, 1, bodies);
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done(); // and no merge of #12

    expect(errors).toContain("revert tampering in acme/access: #12 (from jit-access/revert-7) changes more than the deletion of grants/prod-admins/alice-1.yaml in one commit; jit-access never merges it");
    expect(visible(bodies[0]!)).toContain("🚨 jit-access refused to merge changes it did not make under its revert branch names: #12 (from jit-access/revert-7) changes more than the deletion");
    expect(readState(bodies[0]!)).toMatchObject({ status: "REJECTED", revert_pr: 13, revert_pending: false });
  });
});

describe("the webhook provider, end to end", () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver("hook-secret-for-tests");
  });
  afterEach(() => receiver.close());

  it("a merged request sends one signed apply event to a real receiver", async () => {
    const policy = POLICY.replace("break_glass:", "  billing:\n    provider: webhook\n    config: { url_env: JIT_BILLING_URL, secret_env: JIT_BILLING_SECRET }\n    roles:\n      operator: { max_duration: 4h, grant: { scope: refunds } }\nbreak_glass:");
    const content = grantYaml({ resource: "billing", role: "operator", duration: "1h" });
    const sc = merged({ policy, files: [{ filename: "grants/billing/alice-1.yaml", status: "added", content }], codeowners: { path: ".github/CODEOWNERS", text: "* @acme/platform\n" } });
    const probot = await startApp(NOW, { JIT_BILLING_URL: receiver.url, JIT_BILLING_SECRET: "hook-secret-for-tests" });
    const api = githubApi();
    mockFirstApply(api, sc, "none"); // the webhook provider holds nothing to look up
    const bodies: string[] = [];
    captureApply(api, bodies);
    api.put(`${R}/issues/7/labels`).reply(200, []);
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toMatchObject({ signatureValid: true, body: { action: "apply", id: expect.stringMatching(/^repo:\d+#7$/), requester: "alice", resource: "billing", role: "operator", expires_at: "2026-11-29T14:00:00.000Z", grant: { scope: "refunds" } } });
    expect(readState(bodies[0]!)!.status).toBe("APPROVED");
  });
});

describe("a merge handled late (its webhook lost, the app down for a day)", () => {
  it("its window has passed (fixed by the merge time): nothing is applied and nothing is reverted", async () => {
    const sc = merged();
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc);
    mockApprovalReads(api, sc);
    const bodies: string[] = [];
    captureComment(api, 1, bodies);
    api.put(`${R}/issues/7/labels`, { labels: ["jit:expired"] }).reply(200, []);
    await deliver(await startApp(new Date("2026-11-30T18:00:00Z")), "pull_request", pullRequestEvent("closed", sc.pr));
    api.done(); // no membership change, no revert PR
    expect(readState(bodies[0]!)).toMatchObject({ status: "EXECUTED", expires_at: "2026-11-29T15:00:00.000Z" });
  });
});
