import { beforeEach, describe, expect, it } from "@jest/globals";
import type { Probot } from "probot";
import type { JitApp } from "../src/app.js";
import { loadPolicy } from "../src/policy/load.js";
import { shortestPendingTimeout, timeoutCandidates } from "../src/scheduler/sweep.js";
import { embedState, readState } from "../src/lifecycle/codec.js";
import { APP_ID, deliver, fixedClock, mockInstallationToken, startAppWithScheduler } from "./helpers/app.js";
import { blobSha, CODEOWNERS, contents, grantYaml, HEAD, POLICY, visible } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { example, INSTALLATION_ID, OWNER, pullRequestEvent, REPO } from "./helpers/payloads.js";
import { enc, mockApprovalReads, mockFreshRecord, mockGrantOnMain, mockReads, mockRecordWrites, mockTree, prFields, R, type Scenario, mockPathHistory } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
let probot: Probot;
let app: JitApp;
beforeEach(async () => {
  ({ probot, app } = await startAppWithScheduler(fixedClock(NOW)));
});

const policy = () => {
  const r = loadPolicy(".github/jit-access.yml", POLICY);
  if (!r.ok) throw new Error("fixture policy invalid");
  return r.policy;
};

export function searchHit(number: number, createdAt: string, updatedAt = createdAt) {
  return { number, created_at: createdAt, updated_at: updatedAt, repository_url: `https://api.github.com/repos/${OWNER}/${REPO}`, html_url: `https://github.com/${OWNER}/${REPO}/pull/${number}`, pull_request: { url: "" }, state: "open", title: "request" };
}

const found = (items: unknown[]) => ({ total_count: items.length, incomplete_results: false, items });
const q = (query: string) => ({ q: query, per_page: 100 });

/**
 * The searches of one sweep over the acme installation: with `since` (a later sweep), every PR
 * updated since then, whatever its labels; always the pending requests and the unrecorded ends.
 */
function mockSweep(api: ReturnType<typeof githubApi>, hits: { updated?: unknown[]; open?: unknown[]; blocked?: unknown[] } = {}, since?: string) {
  api.get("/app/installations").query({ per_page: 100 }).reply(200, [{ id: INSTALLATION_ID, account: { login: OWNER, type: "Organization" }, app_id: APP_ID, suspended_at: null }]);
  if (since) api.get("/search/issues").query(q(`is:pr org:${OWNER} updated:>=${since}`)).reply(200, found(hits.updated ?? []));
  api.get("/search/issues").query(q(`is:pr is:open label:"jit:pending" org:${OWNER}`)).reply(200, found(hits.open ?? []));
  api.get("/search/issues").query(q(`is:pr is:merged label:"jit:revert-blocked" org:${OWNER}`)).reply(200, found(hits.blocked ?? []));
}

describe("choosing what to re-evaluate (pure)", () => {
  it("no request younger than the shortest pending_timeout of the policy can have timed out", () => {
    expect(shortestPendingTimeout(policy())).toBe(4 * 3600_000); // prod-db/read-only
    const pending = [
      { owner: OWNER, repo: REPO, number: 1, createdAt: "2026-11-29T09:30:00Z" },
      { owner: OWNER, repo: REPO, number: 2, createdAt: "2026-11-29T08:30:00Z" },
    ];
    expect(timeoutCandidates(pending, policy(), NOW).map((p) => p.number)).toEqual([2]);
  });
});

describe("the sweep", () => {
  it("with nothing pending costs two searches per installation, and a later sweep adds one for what changed since", async () => {
    const api = githubApi();
    mockInstallationToken(api);
    mockSweep(api);
    await app.scheduler.sweep();
    mockSweep(api, {}, "2026-11-29T12:55:00Z"); // the previous sweep's start, less five minutes of search lag
    await app.scheduler.sweep();
    api.done();
  });

  it("reads the policy once for a repository with pending requests, and evaluates only those old enough", async () => {
    const api = githubApi();
    mockInstallationToken(api);
    mockSweep(api, { open: [searchHit(7, "2026-11-29T10:00:00Z")] });
    api.get(`${R}/contents/${enc(".github/jit-access.yml")}`).reply(200, contents(".github/jit-access.yml", POLICY));
    await app.scheduler.sweep();
    api.done();
  });

  it("closes a request that outlived its pending_timeout, after a restart as much as before (nothing is kept in memory)", async () => {
    const pr = prFields({ labels: ["jit:pending"], createdAt: "2026-11-29T08:00:00Z" });
    const sc: Scenario = {
      pr,
      files: [{ filename: "grants/prod-db/alice-1.yaml", status: "added", content: grantYaml() }],
      policy: POLICY,
      codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS },
      memberships: { "@acme/engineering:alice": "active" },
    };
    const api = githubApi();
    mockInstallationToken(api);
    mockSweep(api, { open: [searchHit(7, pr.createdAt!)] });
    api.get(`${R}/contents/${enc(".github/jit-access.yml")}`).reply(200, contents(".github/jit-access.yml", POLICY));
    mockReads(api, sc);
    mockApprovalReads(api, sc);
    api.post(`${R}/check-runs`).reply(201, { id: 1 });
    api.put(`${R}/issues/7/labels`, { labels: ["jit:rejected"] }).reply(200, []);
    api.patch(`${R}/pulls/7`, { state: "closed" }).reply(200, {});
    let comment: any;
    api.post(`${R}/issues/7/comments`, (b) => ((comment = b), true)).reply(201, { id: 55 });

    const restarted = await startAppWithScheduler(fixedClock(NOW));
    await restarted.app.scheduler.sweep();
    api.done();
    expect(visible(comment.body)).toContain("timed out: not approved within the pending timeout");
  });

  it("a later sweep evaluates what changed in an access repository since the last one (a lost webhook, a changed label), once per change", async () => {
    const api = githubApi();
    mockInstallationToken(api);
    mockSweep(api);
    await app.scheduler.sweep();
    app.scheduler.accessRepositories.add(`${OWNER}/${REPO}`.toLowerCase()); // known from the start-up rebuild
    const merged = searchHit(7, "2026-11-29T10:00:00Z", "2026-11-29T12:59:00Z");
    const elsewhere = { ...searchHit(3, "2026-11-29T10:00:00Z", "2026-11-29T12:59:00Z"), repository_url: `https://api.github.com/repos/${OWNER}/website` };
    mockSweep(api, { updated: [merged, elsewhere] }, "2026-11-29T12:55:00Z");
    // #7 is evaluated (its repository has since lost its policy: two reads); the website repository is never read.
    mockReads(api, { pr: prFields({ state: "closed", merged: true }), files: [], policy: null });
    await app.scheduler.sweep();
    // Seen as it is: the next sweep leaves it alone.
    mockSweep(api, { updated: [merged] }, "2026-11-29T12:55:00Z");
    await app.scheduler.sweep();
    api.done();
  });
});

describe("a team membership change", () => {
  it("re-evaluates the organization's pending requests", async () => {
    const payload = example("membership", "added");
    payload.organization = { ...payload.organization, login: OWNER };
    payload.installation = { id: INSTALLATION_ID };
    const api = githubApi();
    mockInstallationToken(api);
    api.get("/search/issues").query(q(`is:pr is:open label:"jit:pending" org:${OWNER}`)).reply(200, found([searchHit(7, "2026-11-29T12:00:00Z")]));
    mockReads(api, { pr: prFields(), files: [], policy: null });
    await deliver(probot, "membership", payload);
    api.done();
  });

  it("keeps re-evaluating the later pending requests when one of them fails", async () => {
    const payload = example("membership", "added");
    payload.organization = { ...payload.organization, login: OWNER };
    payload.installation = { id: INSTALLATION_ID };
    const api = githubApi();
    mockInstallationToken(api);
    api.get("/search/issues").query(q(`is:pr is:open label:"jit:pending" org:${OWNER}`)).reply(200, found([searchHit(7, "2026-11-29T12:00:00Z"), searchHit(8, "2026-11-29T12:00:00Z")]));
    api.get(`${R}/pulls/7`).reply(500, { message: "Server Error" }); // #7 cannot be evaluated now
    mockReads(api, { pr: prFields({ number: 8 }), files: [], policy: null }); // #8 still is
    const failures = app.queue.failures;
    await deliver(probot, "membership", payload, { failing: true });
    api.done();
    // Exactly one evaluation failed, #7's: the search and #8 went on.
    expect(app.queue.failures).toBe(failures + 1);
    expect(app.queue.lastFailure?.key).toBe(`${OWNER}/${REPO}#7`);
    expect((app.queue.lastFailure?.error as Error).message).toMatch(/Server Error/);
  });
});

describe("an evaluation that failed", () => {
  it("of a merged deletion is retried as one: the request whose grant file it deleted is still ended", async () => {
    const clock = fixedClock(NOW);
    const { probot, app: retrying } = await startAppWithScheduler(clock);
    const path = "grants/prod-admins/alice-1.yaml";
    const content = grantYaml({ resource: "prod-admins", role: "member", duration: "2h" });
    const removal = prFields({ number: 20, author: "sam", state: "closed", merged: true });
    const deletion: Scenario = { pr: removal, files: [{ filename: path, status: "removed", content }], policy: POLICY, checkRuns: null };
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, deletion, "policy-only");
    api.get(`${R}/commits`).query({ sha: "main", path, per_page: 5 }).reply(502, { message: "Bad Gateway" }); // git history cannot be read now
    await deliver(probot, "pull_request", pullRequestEvent("closed", removal), { failing: true });
    api.done();
    expect(retrying.queue.lastFailure?.key).toBe(`${OWNER}/${REPO}#20`);
    // Tried again a minute later (the timer fires the scheduler's lead of 10 s before).
    expect(clock.timers.map((t) => new Date(t.at).toISOString())).toEqual(["2026-11-29T13:00:50.000Z"]);

    clock.set(new Date("2026-11-29T13:01:00Z"));
    mockReads(api, deletion, "policy-only");
    // Git history: the deletion (#20) and, before it, the request that added the file (#7).
    mockPathHistory(api, path, [{ pr: 20, headSha: "2".repeat(40), mergedAt: "2026-11-29T12:59:00Z" }, { pr: 7, headSha: HEAD, mergedAt: "2026-11-29T12:00:00Z" }]);
    // #7 is evaluated under its own key: live, and its file is gone from main.
    const live = embedState("### jit-access · 🟢 Access granted", {
      v: 1, status: "APPROVED", path, blob: blobSha(content),
      grant: { requester: "alice", resource: "prod-admins", role: "member", duration: "2h", reason: "Investigate INC-4211: slow checkout queries" },
      approvers: ["pat"], standing: [], applied_at: "2026-11-29T12:00:00.000Z", starts_at: "2026-11-29T12:00:00.000Z", expires_at: "2026-11-29T14:00:00.000Z",
      warn_at: "2026-11-29T13:50:00.000Z", target: { provider: "github-team", config: { org: "acme", team: "prod-admins" }, grant: {} },
    });
    const request: Scenario = { pr: prFields({ state: "closed", merged: true, labels: ["jit:approved"] }), files: [{ filename: path, status: "added", content }], policy: POLICY, comments: [{ id: 55, login: "", byApp: true, body: live }] };
    mockReads(api, request, "through-comments");
    mockGrantOnMain(api, path, null);
    mockTree(api, []); // no other grant of hers keeps the access
    mockFreshRecord(api, live); // read again in her turn: not ended meanwhile
    api.delete("/orgs/acme/teams/prod-admins/memberships/alice").reply(204);
    api.put(`${R}/issues/7/labels`, { labels: ["jit:revoked"] }).reply(200, []);
    const records: string[] = [];
    mockRecordWrites(api, 1, records);
    let body = "";
    api.patch(`${R}/issues/comments/55`, (b: any) => ((body = b.body), true)).reply(200, {});
    clock.timers.shift()!.fn();
    await retrying.scheduler.settled();
    await retrying.queue.idle();
    api.done();
    expect(retrying.queue.failures).toBe(1); // the first attempt only
    expect(records).toEqual([body]);
    expect(readState(body)).toMatchObject({ status: "REVOKED", ended_by: "its grant file was removed from main" });
  });
});
