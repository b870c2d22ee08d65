import { describe, expect, it } from "@jest/globals";
import { embedState, type CommentState } from "../src/lifecycle/codec.js";
import { GrantIndex } from "../src/scheduler/due.js";
import { APP_ID, fixedClock, mockInstallationToken, startAppWithScheduler } from "./helpers/app.js";
import { blobSha, grantYaml, HEAD } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { INSTALLATION_ID, OWNER, REPO } from "./helpers/payloads.js";
import { mockCheckRuns, mockTree, R, recordRun, mockPathHistory } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

/** A restart in the middle of a window: what happened while the app was down is found again from GitHub. */
guardNetwork();
const PATH = "grants/prod-admins/alice-1.yaml";
const CONTENT = grantYaml({ resource: "prod-admins", role: "member", duration: "2h" });
const live: CommentState = {
  v: 1, status: "APPROVED", path: PATH, blob: blobSha(CONTENT),
  grant: { requester: "alice", resource: "prod-admins", role: "member", duration: "2h", reason: "Investigate INC-4211" },
  standing: [], applied_at: "2026-11-29T13:00:05.000Z", starts_at: "2026-11-29T13:00:00.000Z", expires_at: "2026-11-29T15:00:00.000Z",
  warned_at: "2026-11-29T14:50:00.000Z", target: { provider: "github-team", config: { org: "acme", team: "prod-admins" }, grant: {} },
};
const found = (items: unknown[]) => ({ total_count: items.length, incomplete_results: false, items });
/** The rebuild's first look: the repository's closed PRs, a page of them. */
const closedPulls = (api: ReturnType<typeof githubApi>, pulls: unknown[]) =>
  api.get(`${R}/pulls`).query({ state: "closed", sort: "updated", direction: "desc", per_page: 100, page: 1 }).reply(200, pulls);

describe("after a restart mid-window", () => {
  it("the first sweep looks back to the oldest live grant's apply, so a `/jit revoke` written while the app was down is found then, not at the expiry", async () => {
    const { app } = await startAppWithScheduler(fixedClock(new Date("2026-11-29T14:00:00Z")));
    const api = githubApi();
    mockInstallationToken(api);
    api.get("/app/installations").query({ per_page: 100 }).times(2).reply(200, [{ id: INSTALLATION_ID, account: { login: OWNER, type: "Organization" }, app_id: APP_ID, suspended_at: null }]);
    api.get("/installation/repositories").query({ per_page: 100 }).reply(200, { total_count: 1, repositories: [{ name: REPO, owner: { login: OWNER }, default_branch: "main", archived: false }] });
    mockTree(api, [{ path: PATH, content: CONTENT }]);
    // The closed PRs show no grant (its labels were removed, say): the file is looked up on its own.
    closedPulls(api, []);
    api.get(`${R}/git/blobs/${blobSha(CONTENT)}`).reply(200, { sha: blobSha(CONTENT), encoding: "base64", content: Buffer.from(CONTENT).toString("base64"), size: CONTENT.length });
    mockPathHistory(api, PATH, [{ pr: 7, headSha: HEAD }]);
    mockCheckRuns(api, HEAD, [recordRun(embedState("granted", live))]);
    api.get(`${R}/pulls`).query({ state: "open", sort: "updated", direction: "desc", per_page: 100 }).reply(200, []);
    await app.scheduler.rebuild();
    // The sweep's search reaches back to 13:00:05 less the five minutes of search-index lag.
    api.get("/search/issues").query({ q: `is:pr org:${OWNER} updated:>=2026-11-29T12:55:05Z`, per_page: 100 }).reply(200, found([]));
    api.get("/search/issues").query({ q: `is:pr is:open label:"jit:pending" org:${OWNER}`, per_page: 100 }).reply(200, found([]));
    api.get("/search/issues").query({ q: `is:pr is:merged label:"jit:revert-blocked" org:${OWNER}`, per_page: 100 }).reply(200, found([]));
    await app.scheduler.sweep();
    api.done();
    expect(app.scheduler.index.size).toBe(1);
  });

  it("finds a live grant through its request's record, one read: no blob, no history", async () => {
    const { app } = await startAppWithScheduler(fixedClock(new Date("2026-11-29T14:00:00Z")));
    const api = githubApi();
    mockInstallationToken(api);
    api.get("/app/installations").query({ per_page: 100 }).reply(200, [{ id: INSTALLATION_ID, account: { login: OWNER, type: "Organization" }, app_id: APP_ID, suspended_at: null }]);
    api.get("/installation/repositories").query({ per_page: 100 }).reply(200, { total_count: 1, repositories: [{ name: REPO, owner: { login: OWNER }, default_branch: "main", archived: false }] });
    mockTree(api, [{ path: PATH, content: CONTENT }]);
    closedPulls(api, [
      { number: 7, merged_at: "2026-11-29T13:00:00Z", labels: [{ name: "jit:approved" }], head: { sha: HEAD } },
      { number: 6, merged_at: null, labels: [{ name: "jit:rejected" }], head: { sha: "6".repeat(40) } }, // not read
    ]);
    mockCheckRuns(api, HEAD, [recordRun(embedState("granted", live))]);
    api.get(`${R}/pulls`).query({ state: "open", sort: "updated", direction: "desc", per_page: 100 }).reply(200, []);
    await app.scheduler.rebuild();
    api.done();
    expect(app.scheduler.index.size).toBe(1);
    // Indexed by its record: due by its end (the expiry warning was already given).
    expect(app.scheduler.index.get(GrantIndex.key({ owner: OWNER, repo: REPO, number: 7 }))?.dueAt).toBe(Date.parse(live.expires_at!));
  });
});
