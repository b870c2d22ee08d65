import { describe, expect, it } from "@jest/globals";
import { embedState, readState, type CommentState } from "../src/lifecycle/codec.js";
import { APP_ID, deliver, fixedClock, mockInstallationToken, startAppWithScheduler } from "./helpers/app.js";
import { blobSha, grantYaml, HEAD, POLICY, visible } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { commentEvent, INSTALLATION_ID, OWNER, pullRequestEvent, REPO } from "./helpers/payloads.js";
import { mockCheckRuns, mockFreshRecord, mockGrantOnMain, mockReads, mockRecordWrites, mockStatusCommentLookup, mockTeamLists, mockTree, prFields, R, recordRun, type Scenario, mockPathHistory } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

guardNetwork();
const PATH = "grants/prod-admins/alice-1.yaml";
const CONTENT = grantYaml({ resource: "prod-admins", role: "member", duration: "2h" });
const TEAM = "/orgs/acme/teams/prod-admins/memberships/alice";
const APPLIED = "2026-11-29T13:00:00.000Z";
const EXPIRES = "2026-11-29T15:00:00.000Z";

function liveState(extra: Partial<CommentState> = {}): CommentState {
  return {
    v: 1,
    status: "APPROVED",
    path: PATH,
    blob: blobSha(CONTENT),
    grant: { requester: "alice", resource: "prod-admins", role: "member", duration: "2h", reason: "Investigate INC-4211: slow checkout queries" },
    approvers: ["pat"],
    standing: [],
    applied_at: APPLIED,
    starts_at: APPLIED,
    expires_at: EXPIRES,
    warn_at: "2026-11-29T14:50:00.000Z",
    target: { provider: "github-team", config: { org: "acme", team: "prod-admins" }, grant: {} },
    ...extra,
  };
}

const liveComment = (state: CommentState) => embedState("### jit-access · 🟢 Access granted", state);

/** A grant whose end is due: its reads up to the record, then (after the revoke) its status comment looked up. */
function mockDueReads(api: ReturnType<typeof githubApi>, sc: Scenario): void {
  mockReads(api, { ...sc, endDue: true }, "through-comments");
  mockStatusCommentLookup(api, sc);
}

function live(state = liveState(), comments: Scenario["comments"] = []): Scenario {
  return {
    pr: prFields({ state: "closed", merged: true, labels: ["jit:approved"] }),
    files: [{ filename: PATH, status: "added", content: CONTENT }],
    policy: POLICY,
    comments: [{ id: 55, login: "", byApp: true, body: liveComment(state) }, ...(comments ?? [])],
  };
}

const found = (items: unknown[]) => ({ total_count: items.length, incomplete_results: false, items });
const MERGE_SHA = "m".repeat(40);

/** Git history names the request PR that added a grant file: its commit, and the PR GitHub associates with it. */
function mockOrigin(api: ReturnType<typeof githubApi>, path: string, number: number, headSha: string) {
  mockPathHistory(api, path, [{ pr: number, headSha }]);
}

/** The rebuild at start-up: the access repository's tree on main, the request behind its one grant file, that request's record. */
function mockRebuild(api: ReturnType<typeof githubApi>, state: CommentState) {
  api.get("/app/installations").query({ per_page: 100 }).reply(200, [{ id: INSTALLATION_ID, account: { login: OWNER, type: "Organization" }, app_id: APP_ID, suspended_at: null }]);
  api.get("/installation/repositories").query({ per_page: 100 }).reply(200, { total_count: 1, repositories: [{ name: REPO, owner: { login: OWNER }, default_branch: "main", archived: false }] });
  mockTree(api, [{ path: PATH, content: CONTENT }]);
  // The grant file is matched to its request through the closed PRs and the record (which names the
  // file, its blob and its requester: the revokes that follow need no blob read).
  api.get(`${R}/pulls`).query({ state: "closed", sort: "updated", direction: "desc", per_page: 100, page: 1 }).reply(200, [{ number: 7, merged_at: "2026-11-29T13:00:00Z", labels: [{ name: "jit:approved" }], head: { sha: HEAD } }]);
  mockCheckRuns(api, HEAD, [recordRun(liveComment(state))]);
  api.get(`${R}/pulls`).query({ state: "open", sort: "updated", direction: "desc", per_page: 100 }).reply(200, []);
}

/** Reference counting: main holds only this grant's own file, so no other grant of hers gives anything. */
function mockNoOtherLiveGrants(api: ReturnType<typeof githubApi>) {
  mockTree(api, [{ path: PATH, content: CONTENT }]);
}

/** In the person's turn, just before the revoke, the record is read again: not ended meanwhile (by a replica, say). */
function mockRecordInTurn(api: ReturnType<typeof githubApi>, state = liveState()) {
  mockFreshRecord(api, liveComment(state));
}

/** The status comment written `times` times, each after the same write to the record. */
function captureComment(api: ReturnType<typeof githubApi>, times: number, bodies: string[] = [], records: string[] = []) {
  mockRecordWrites(api, times, records);
  for (let i = 0; i < times; i++) api.patch(`${R}/issues/comments/55`, (b: any) => (bodies.push(b.body), true)).reply(200, {});
  return bodies;
}

/**
 * An end with a revert PR: the record written twice — the end, inside the person's turn, before
 * any revert PR exists; then the revert PR's outcome — and the status comment once, after both.
 */
function captureEnd(api: ReturnType<typeof githubApi>, records: string[] = []) {
  const bodies: string[] = [];
  mockRecordWrites(api, 2, records);
  api.patch(`${R}/issues/comments/55`, (b: any) => (bodies.push(b.body), true)).reply(200, {});
  return bodies;
}

/**
 * The revert PR that records the end: no PR on its branch yet, so the branch is created at the
 * default branch's head, the grant file deleted there in one commit (whose parent is checked),
 * the PR opened, given a successful jit-access check and merged pinned to that commit.
 */
const MAIN_SHA = "f".repeat(40);
const REVERT_SHA = "c".repeat(40);
function mockRevert(api: ReturnType<typeof githubApi>, capture: { body?: any; check?: any }, merge: "ok" | "blocked" = "ok") {
  api.get(`${R}/pulls`).query({ head: "acme:jit-access/revert-7", state: "all", per_page: 100 }).reply(200, []);
  api.get(`${R}/git/ref/heads%2Fmain`).reply(200, { ref: "refs/heads/main", object: { sha: MAIN_SHA, type: "commit" } });
  api.post(`${R}/git/refs`, { ref: "refs/heads/jit-access/revert-7", sha: MAIN_SHA }).reply(201, { ref: "refs/heads/jit-access/revert-7", object: { sha: MAIN_SHA } });
  api
    .delete(`${R}/contents/${encodeURIComponent(PATH)}`, (b: any) => b.branch === "jit-access/revert-7" && b.sha === blobSha(CONTENT))
    .reply(200, { content: null, commit: { sha: REVERT_SHA, parents: [{ sha: MAIN_SHA }] } });
  api.post(`${R}/pulls`, (b) => ((capture.body = b), true)).reply(201, { number: 9, html_url: "https://github.com/acme/access/pull/9" });
  api.post(`${R}/check-runs`, (b) => ((capture.check = b), true)).reply(201, { id: 3 });
  const pinned = { sha: REVERT_SHA, merge_method: "squash" };
  if (merge === "ok") {
    api.put(`${R}/pulls/9/merge`, (b: any) => b.sha === pinned.sha && b.merge_method === pinned.merge_method).reply(200, { merged: true });
    api.get(`${R}/pulls/9`).reply(200, { number: 9, merged: true, base: { ref: "main" } }); // merged into main, not a branch it was retargeted to
  }
  else {
    api.put(`${R}/pulls/9/merge`, (b: any) => b.sha === pinned.sha).reply(405, { message: "Changes must be made through a pull request with 1 approving review." });
    api.get(`${R}/pulls/9`).reply(200, { number: 9, merged: false }); // not merged by another replica either
    api.post(`${R}/issues/9/labels`, { labels: ["jit:revert-blocked"] }).reply(200, []);
  }
}

describe("expiry", () => {
  it("a timer reads the grant 10 s early, revokes at expires_at, then opens a revert PR with planned and actual times, then jit:expired", async () => {
    const clock = fixedClock(new Date("2026-11-29T14:55:00Z"));
    const { app } = await startAppWithScheduler(clock);
    const api = githubApi();
    mockInstallationToken(api);
    mockRebuild(api, liveState({ warned_at: "2026-11-29T14:50:00.000Z" }));
    await app.scheduler.rebuild();
    expect(clock.timers.map((t) => new Date(t.at).toISOString())).toEqual(["2026-11-29T14:59:50.000Z"]); // the lead before expires_at

    // 10 s before: the snapshot is read, and the run waits for the exact moment.
    clock.set(new Date("2026-11-29T14:59:50Z"));
    const sc = live(liveState({ warned_at: "2026-11-29T14:50:00.000Z" }));
    // Its end is due within the minute: nothing unbounded (its timeline) is read before the revoke.
    mockReads(api, { ...sc, endDue: true }, "through-comments");
    clock.timers.shift()!.fn();
    while (clock.timers.length === 0) await new Promise((r) => setImmediate(r)); // until it waits on the clock
    expect(clock.timers.map((t) => new Date(t.at).toISOString())).toEqual([EXPIRES]);
    expect(api.pendingMocks()).toEqual([]); // everything read, nothing revoked yet

    // At expires_at: only the decision, the reference count and the revoke stand between.
    clock.set(new Date("2026-11-29T15:00:00.250Z"));
    mockNoOtherLiveGrants(api);
    mockRecordInTurn(api, liveState({ warned_at: "2026-11-29T14:50:00.000Z" }));
    api.delete(TEAM).reply(204);
    const revert: { body?: any; check?: any } = {};
    mockRevert(api, revert);
    api.put(`${R}/issues/7/labels`, { labels: ["jit:expired"] }).reply(200, []);
    mockStatusCommentLookup(api, sc); // found after the revoke, to be redrawn
    const records: string[] = [];
    const bodies = captureEnd(api, records);
    clock.timers.shift()!.fn();
    await app.scheduler.settled();
    api.done();
    // The end is recorded before the revert PR exists, so the app's own revert can never look like a deletion of a live grant.
    expect(readState(records[0]!)).toMatchObject({ status: "EXECUTED", revoked_at: "2026-11-29T15:00:00.250Z", revert_pending: true });
    expect(revert.body).toBeDefined();
    // The status comment is written once, after the revert PR: it shows the end and the revert together.
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toBe(records[1]);
    const comment = { body: bodies[0]! };

    expect(revert.body).toMatchObject({ head: "jit-access/revert-7", base: "main" });
    // A required jit-access check must not block the revert: the app gives it one, before the merge.
    expect(revert.check).toMatchObject({ name: "jit-access", head_sha: REVERT_SHA, status: "completed", conclusion: "success" });
    expect(revert.body.body).toContain("- Planned revoke: 2026-11-29T15:00:00.000Z\n- Actual revoke: 2026-11-29T15:00:00.250Z");
    expect(revert.body.body).toContain("Records the end of #7");
    const state = readState(comment.body)!;
    expect(state).toMatchObject({ status: "EXECUTED", revoked_at: "2026-11-29T15:00:00.250Z", ended_by: "its window ended", revert_pr: 9, revert_pending: false });
    expect(visible(comment.body)).toContain("⌛ Expired: access taken away");
    expect(app.scheduler.index.size).toBe(0); // nothing is due any more
  });

  it("after downtime, the start-up rebuild revokes what expired while the app was down", async () => {
    const clock = fixedClock(new Date("2026-11-29T18:00:00Z"));
    const { app } = await startAppWithScheduler(clock);
    const api = githubApi();
    mockInstallationToken(api);
    mockRebuild(api, liveState());
    mockDueReads(api, live());
    mockNoOtherLiveGrants(api);
    mockRecordInTurn(api);
    api.delete(TEAM).reply(204);
    mockRevert(api, {});
    api.put(`${R}/issues/7/labels`, { labels: ["jit:expired"] }).reply(200, []);
    const bodies = captureEnd(api);
    await app.scheduler.rebuild();
    await app.queue.idle();
    api.done();
    expect(readState(bodies[0]!)).toMatchObject({ status: "EXECUTED", revoked_at: "2026-11-29T18:00:00.000Z" });
  });

  it("keeps the membership while another live grant gives the same access", async () => {
    const { probot } = await startAppWithScheduler(fixedClock(new Date("2026-11-29T15:00:01Z")));
    const api = githubApi();
    mockInstallationToken(api);
    mockDueReads(api, live());
    // main holds her other grant (#12, live until 20:00) and zoe's; only hers is looked into.
    const OTHER = "grants/prod-admins/alice-2.yaml";
    const otherContent = grantYaml({ resource: "prod-admins", role: "member", duration: "6h", reason: '"Investigate INC-4300, a second incident"' });
    const zoes = grantYaml({ requester: "zoe", resource: "prod-admins", role: "member", duration: "1h" });
    mockTree(api, [{ path: PATH, content: CONTENT }, { path: OTHER, content: otherContent }, { path: "grants/prod-admins/zoe-1.yaml", content: zoes }]);
    for (const content of [otherContent, zoes]) api.get(`${R}/git/blobs/${blobSha(content)}`).reply(200, { sha: blobSha(content), encoding: "base64", content: Buffer.from(content).toString("base64"), size: content.length });
    mockOrigin(api, OTHER, 12, "1".repeat(40));
    const other = liveState({ path: OTHER, expires_at: "2026-11-29T20:00:00.000Z" });
    mockCheckRuns(api, "1".repeat(40), [recordRun(liveComment(other), {}, 12)]);
    mockRecordInTurn(api);
    mockRevert(api, {});
    api.put(`${R}/issues/7/labels`).reply(200, []);
    captureEnd(api);
    await deliver(probot, "pull_request", pullRequestEvent("closed", live().pr));
    api.done(); // no DELETE of the membership: #12 still gives it
  });

  it("a failed revoke is shown, retried with backoff and never reported as done", async () => {
    const clock = fixedClock(new Date("2026-11-29T15:00:01Z"));
    const { probot } = await startAppWithScheduler(clock);
    const api = githubApi();
    mockInstallationToken(api);
    mockDueReads(api, live());
    mockNoOtherLiveGrants(api);
    mockRecordInTurn(api);
    api.delete(TEAM).reply(502, { message: "Server Error" });
    const comment = { get body() { return written[0]!; } };
    const written = captureComment(api, 1);
    await deliver(probot, "pull_request", pullRequestEvent("closed", live().pr));
    api.done(); // no revert PR, no label change
    const state = readState(comment.body)!;
    expect(state).toMatchObject({ status: "APPROVED", revoke_attempts: 1, next_revoke_at: "2026-11-29T15:00:02.000Z" });
    expect(state.revoke_error).toContain("removing alice in acme/prod-admins failed");
    expect(visible(comment.body)).toContain("until then the access is still live");

    // The retry, once the backoff has passed, completes the end.
    const { probot: later } = await startAppWithScheduler(fixedClock(new Date("2026-11-29T15:01:30Z")));
    const retry = githubApi();
    mockInstallationToken(retry);
    mockDueReads(retry, live(state));
    mockNoOtherLiveGrants(retry);
    mockRecordInTurn(retry, state);
    retry.delete(TEAM).reply(204);
    mockRevert(retry, {});
    retry.put(`${R}/issues/7/labels`, { labels: ["jit:expired"] }).reply(200, []);
    const ends = captureEnd(retry);
    await deliver(later, "pull_request", pullRequestEvent("closed", live().pr));
    retry.done();
    const done = { body: ends[0]! };
    expect(readState(done.body)).toMatchObject({ status: "EXECUTED", revoked_at: "2026-11-29T15:01:30.000Z" });
    expect(readState(done.body)!.revoke_error).toBeUndefined();
  });

  it("a blocked revert merge leaves the PR open and labelled, and says so; the access is gone all the same", async () => {
    const { probot } = await startAppWithScheduler(fixedClock(new Date("2026-11-29T15:00:01Z")));
    const api = githubApi();
    mockInstallationToken(api);
    mockDueReads(api, live());
    mockNoOtherLiveGrants(api);
    mockRecordInTurn(api);
    api.delete(TEAM).reply(204);
    mockRevert(api, {}, "blocked");
    api.put(`${R}/issues/7/labels`, { labels: ["jit:expired", "jit:revert-blocked"] }).reply(200, []);
    const bodies = captureEnd(api);
    await deliver(probot, "pull_request", pullRequestEvent("closed", live().pr));
    api.done();
    const comment = { body: bodies[0]! };
    expect(readState(comment.body)).toMatchObject({ status: "EXECUTED", revert_pr: 9, revert_pending: true });
    expect(visible(comment.body)).toContain("The revert pull request #9 could not be merged: Changes must be made through a pull request with 1 approving review.. The access is already gone");
  });

  it("redelivered after the end: reads, and does nothing twice", async () => {
    const { probot } = await startAppWithScheduler(fixedClock(new Date("2026-11-29T15:05:00Z")));
    const ended = liveState({ status: "EXECUTED", revoked_at: "2026-11-29T15:00:00.250Z", revert_pr: 9, revert_pending: false });
    const sc = live(ended);
    sc.pr.labels = ["jit:expired"];
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments");
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
  });
});

describe("the expiry warning", () => {
  it("mentions the requester once, expiry_warning before the end", async () => {
    const { probot } = await startAppWithScheduler(fixedClock(new Date("2026-11-29T14:50:00Z")));
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, live(), "through-comments");
    mockGrantOnMain(api, PATH, CONTENT);
    mockFreshRecord(api, liveComment(liveState())); // not yet warned by another replica
    let warning: any;
    api.post(`${R}/issues/7/comments`, (b) => ((warning = b), true)).reply(201, { id: 78 });
    const bodies = captureComment(api, 1);
    await deliver(probot, "pull_request", pullRequestEvent("closed", live().pr));
    api.done();
    const comment = { body: bodies[0]! };
    expect(warning.body).toBe("⏰ @alice your access (prod-admins · member) ends at 2026-11-29 15:00 UTC. jit-access will revoke it then; open a new request if you still need it.");
    expect(readState(comment.body)!.warned_at).toBe("2026-11-29T14:50:00.000Z");

    // The next evaluation sees it recorded: no second warning.
    const again = githubApi(); // the installation token is still cached
    mockReads(again, { ...live(), comments: [{ id: 55, login: "", byApp: true, body: comment.body }] }, "through-comments");
    mockGrantOnMain(again, PATH, CONTENT);
    await deliver(probot, "pull_request", pullRequestEvent("closed", live().pr));
    again.done();
  });

  it("is not posted again when another replica recorded it since this one read the state", async () => {
    const { probot } = await startAppWithScheduler(fixedClock(new Date("2026-11-29T14:50:01Z")));
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, live(), "through-comments");
    mockGrantOnMain(api, PATH, CONTENT);
    mockFreshRecord(api, liveComment(liveState({ warned_at: "2026-11-29T14:50:00.000Z" })));
    captureComment(api, 1); // the record and the status comment are still brought up to date
    await deliver(probot, "pull_request", pullRequestEvent("closed", live().pr));
    api.done(); // and no warning comment was created
  });
});

describe("early revoke", () => {
  const at = new Date("2026-11-29T14:00:00Z");
  const command = (login: string, body = "/jit revoke done early", createdAt = "2026-11-29T13:59:00Z") => [{ id: 60, login, body, createdAt }];

  async function revokedBy(login: string, memberships: Record<string, "active" | "none"> = {}) {
    const { probot } = await startAppWithScheduler(fixedClock(at));
    const sc = live(liveState(), command(login));
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments");
    mockGrantOnMain(api, PATH, CONTENT);
    mockTeamLists(api, memberships);
    return { probot, api, sc };
  }

  it("a revoke reason cannot mention anyone or inject links in the revert PR", async () => {
    const { probot } = await startAppWithScheduler(fixedClock(at));
    const body = "/jit revoke ping @acme/everyone [here](https://evil.example)";
    const sc = live(liveState(), [{ id: 60, login: "alice", body, createdAt: "2026-11-29T13:59:00Z" }]);
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments");
    mockGrantOnMain(api, PATH, CONTENT);
    mockNoOtherLiveGrants(api);
    mockRecordInTurn(api);
    api.delete(TEAM).reply(204);
    const revert: { body?: any } = {};
    mockRevert(api, revert);
    api.put(`${R}/issues/7/labels`).reply(200, []);
    captureEnd(api);
    await deliver(probot, "issue_comment", commentEvent(sc.pr, { login: "alice", body }));
    api.done();
    expect(revert.body.body).toContain("revoked by alice: ping @\u200bacme/everyone \\[here\\](https://evil.example)");
    expect(revert.body.body).not.toContain("@acme/everyone");
  });

  it.each([
    ["the requester", "alice", {}],
    ["an approver of the grant", "pat", {}],
    ["a policy admin", "sam", { "@acme/security:sam": "active" as const }],
  ])("by %s: revoke, revert PR, jit:revoked", async (_, login, memberships) => {
    const { probot, api, sc } = await revokedBy(login, memberships);
    mockNoOtherLiveGrants(api);
    mockRecordInTurn(api);
    api.delete(TEAM).reply(204);
    mockRevert(api, {});
    api.put(`${R}/issues/7/labels`, { labels: ["jit:revoked"] }).reply(200, []);
    const bodies = captureEnd(api);
    await deliver(probot, "issue_comment", commentEvent(sc.pr, { login, body: "/jit revoke done early" }));
    api.done();
    const comment = { body: bodies[0]! };
    expect(readState(comment.body)).toMatchObject({ status: "REVOKED", ended_by: `revoked by ${login}: done early`, revoked_at: at.toISOString() });
  });

  it("by anyone else: nothing changes, and they get one reply that says why", async () => {
    const { probot, api, sc } = await revokedBy("mallory", { "@acme/security:mallory": "none" });
    let reply: any;
    api.post(`${R}/issues/7/comments`, (b) => ((reply = b), true)).reply(201, { id: 61 });
    const bodies = captureComment(api, 1);
    const comment = { get body() { return bodies[0]!; } };
    await deliver(probot, "issue_comment", commentEvent(sc.pr, { login: "mallory", body: "/jit revoke" }));
    api.done();
    expect(reply.body).toBe("@mallory `/jit revoke` was not carried out: only the requester (alice), an approver of this grant (pat) or a policy admin (`@acme/security`) may end it early.");
    expect(readState(comment.body)).toMatchObject({ status: "APPROVED", answered_through: 60, refused_count: 1 });
  });

  it("a /jit revoke written before the grant was applied does not end it", async () => {
    const { probot } = await startAppWithScheduler(fixedClock(at));
    const sc = live(liveState({ applied_at: "2026-11-29T12:45:00.000Z" }), command("alice", "/jit revoke", "2026-11-29T12:30:00Z"));
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments");
    mockGrantOnMain(api, PATH, CONTENT);
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
  });

  it("a merged PR that deletes a live grant file ends that grant (no revert needed: the file is gone)", async () => {
    const { probot } = await startAppWithScheduler(fixedClock(at));
    const removal = prFields({ number: 20, author: "sam", state: "closed", merged: true });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, { pr: removal, files: [{ filename: PATH, status: "removed", content: CONTENT }], policy: POLICY, checkRuns: null }, "policy-only");
    // Git history: the deletion (#20) and, before it, the request that added the file (#7).
    mockPathHistory(api, PATH, [{ pr: 20, headSha: "2".repeat(40), mergedAt: "2026-11-29T13:59:00Z" }, { pr: 7, headSha: HEAD }]);
    // #7 is evaluated under its own key, and finds its file gone from main.
    mockReads(api, live(), "through-comments");
    mockGrantOnMain(api, PATH, null);
    mockTree(api, []);
    mockRecordInTurn(api);
    api.delete(TEAM).reply(204);
    api.put(`${R}/issues/7/labels`, { labels: ["jit:revoked"] }).reply(200, []);
    const bodies = captureComment(api, 1);
    await deliver(probot, "pull_request", pullRequestEvent("closed", removal));
    api.done();
    expect(readState(bodies[0]!)).toMatchObject({ status: "REVOKED", ended_by: "its grant file was removed from main", revert_pending: false });
  });
});

describe("the app's own revert PR, once merged", () => {
  it("is not taken for a deletion of a live grant: the request's record already says it ended, so nothing is revoked or relabelled", async () => {
    const { probot } = await startAppWithScheduler(fixedClock(new Date("2026-11-29T15:00:03Z")));
    const revert = prFields({ number: 9, author: "jit-access[bot]", state: "closed", merged: true });
    const ended = liveState({ status: "EXECUTED", revoked_at: "2026-11-29T15:00:00.250Z", ended_by: "its window ended", revert_pending: true, revert_path_blob: [PATH, blobSha(CONTENT)] });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, { pr: revert, files: [{ filename: PATH, status: "removed", content: CONTENT }], policy: POLICY, checkRuns: null }, "policy-only");
    mockPathHistory(api, PATH, [{ pr: 9, headSha: "9".repeat(40), mergedAt: "2026-11-29T15:00:02Z" }, { pr: 7, headSha: HEAD }]);
    // #7, evaluated under its own key: ended, its revert pending in the record (the merge is not recorded yet).
    const sc = { ...live(ended), pr: prFields({ state: "closed", merged: true, labels: ["jit:expired"] }) };
    mockReads(api, sc, "through-comments");
    // The follow-up finds its revert PR merged, verifies it is exactly the deletion into main, and
    // records that; no revoke, no jit:revoked.
    api
      .get(`${R}/pulls`)
      .query({ head: "acme:jit-access/revert-7", state: "all", per_page: 100 })
      .reply(200, [{ number: 9, html_url: "u", state: "closed", merged_at: "2026-11-29T15:00:02Z", labels: [], head: { ref: "jit-access/revert-7", sha: REVERT_SHA, repo: { full_name: "acme/access" } }, base: { ref: "main" } }]);
    api.get(`${R}/compare/main...${REVERT_SHA}`).query({ per_page: 2 }).reply(200, { status: "ahead", ahead_by: 1, behind_by: 0, total_commits: 1, commits: [{ sha: REVERT_SHA }], files: [{ filename: PATH, status: "removed" }] });
    const bodies = captureComment(api, 1);
    await deliver(probot, "pull_request", pullRequestEvent("closed", revert));
    api.done();
    expect(readState(bodies[0]!)).toMatchObject({ status: "EXECUTED", revert_pr: 9, revert_pending: false });
  });
});
