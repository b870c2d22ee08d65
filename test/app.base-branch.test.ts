import { beforeEach, describe, expect, it } from "@jest/globals";
import type { Probot } from "probot";
import { embedState, readState, type CommentState } from "../src/lifecycle/state-block.js";
import { APP_ID, deliver, mockInstallationToken, startApp } from "./helpers/app.js";
import { blobSha, grantYaml, HEAD, POLICY, visible } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { OWNER, pullRequestEvent, REPO, reviewEvent } from "./helpers/payloads.js";
import { mockCheckRuns, mockReads, prFields, R, type Scenario } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

/**
 * PRODUCT.md §1: only PRs into the default branch are requests or deletions of live grants. The
 * attack: push a branch `friends` whose CODEOWNERS names a friend, open a request against it,
 * get it approved there and merged. The real owners are never asked; the file never reaches main.
 */
guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
let probot: Probot;
beforeEach(async () => {
  probot = await startApp(NOW);
});

const PATH = "grants/prod-admins/alice-1.yaml";
const CONTENT = grantYaml({ resource: "prod-admins", role: "member", duration: "2h" });
const TEAM = "/orgs/acme/teams/prod-admins/memberships/alice";
const pending = "<!-- jit-access:status -->\nWaiting\n<!-- jit-access:state {\"v\":1,\"status\":\"PENDING\"} -->\n";

function onFriendsBranch(extra: Partial<Scenario["pr"]> = {}, comments: Scenario["comments"] = []): Scenario {
  return {
    pr: prFields({ baseRef: "friends", ...extra }),
    files: [{ filename: PATH, status: "added", content: CONTENT }],
    policy: POLICY,
    comments,
  };
}

describe("a request against a branch other than the default branch", () => {
  it("fails its check with an error on the grant file, reads no approvers and is never merged, even once approved there", async () => {
    const sc = onFriendsBranch();
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments"); // no grant content, no CODEOWNERS (of any branch), no reviews
    mockCheckRuns(api, HEAD);
    let check: any;
    api.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 1 });
    let comment: any;
    api.post(`${R}/issues/7/comments`, (b) => ((comment = b), true)).reply(201, { id: 55 });
    await deliver(probot, "pull_request_review", reviewEvent("submitted", sc.pr, { login: "friend", state: "APPROVED", commitId: HEAD }));
    api.done(); // and no merge

    expect(check).toMatchObject({ name: "jit-access", head_sha: HEAD, status: "completed", conclusion: "failure", output: { title: "Not against the default branch" } });
    expect(check.output.annotations).toEqual([
      {
        path: PATH,
        start_line: 1,
        end_line: 1,
        start_column: 1,
        end_column: 1,
        annotation_level: "failure",
        title: "jit-access",
        message: "requests must target the default branch main; this pull request targets friends, where jit-access neither reads approvers nor applies anything. Change its base to main.",
      },
    ]);
    expect(visible(comment.body)).toContain("⚠️ Not against the default branch");
    expect(readState(comment.body)).toMatchObject({ status: null });
  });

  it("merged there: applies nothing, opens no revert PR, labels it jit:rejected and says nothing was granted", async () => {
    const sc = onFriendsBranch({ state: "closed", merged: true, labels: ["jit:pending"] }, [{ id: 55, login: "", byApp: true, body: pending }]);
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments");
    api.delete(`${R}/issues/7/labels/jit%3Apending`).reply(200, []);
    api.post(`${R}/issues/7/labels`, { labels: ["jit:rejected"] }).reply(200, []);
    let comment: any;
    api.patch(`${R}/issues/comments/55`, (b) => ((comment = b), true)).reply(200, {});
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done(); // no team membership call (nothing applied), no revert branch or PR

    expect(visible(comment.body)).toContain("⛔ Merged outside the default branch: nothing was granted");
    expect(visible(comment.body)).toContain("merged into friends, not the default branch main: jit-access granted nothing");
    expect(readState(comment.body)).toMatchObject({ status: "REJECTED", ended_by: "merged into friends, not main" });

    // Redelivered: the recorded rejection stands; reads only.
    const again = onFriendsBranch({ state: "closed", merged: true, labels: ["jit:rejected"] }, [{ id: 55, login: "", byApp: true, body: comment.body }]);
    const redelivery = githubApi();
    mockReads(redelivery, again, "through-comments");
    await deliver(probot, "pull_request", pullRequestEvent("closed", again.pr));
    redelivery.done();
  });
});

describe("a deletion of a grant file against another branch", () => {
  const removal = (extra: Partial<Scenario["pr"]> = {}): Scenario => ({
    pr: prFields({ number: 20, author: "sam", baseRef: "friends", ...extra }),
    files: [{ filename: PATH, status: "removed", content: CONTENT }],
    policy: POLICY,
  });

  it("fails its check on the deleted path", async () => {
    const sc = removal();
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "policy-only");
    mockCheckRuns(api, HEAD);
    let check: any;
    api.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 1 });
    await deliver(probot, "pull_request", pullRequestEvent("opened", sc.pr));
    api.done();
    expect(check).toMatchObject({ conclusion: "failure", output: { title: "Not against the default branch" } });
    expect(check.output.annotations.map((a: any) => [a.path, a.message])).toEqual([
      [PATH, "this pull request targets friends, not the default branch main: deleting a grant file there ends no grant. Change its base to main."],
    ]);
  });

  it("merged there, revokes nothing: no live grant is even looked up", async () => {
    const sc = removal({ state: "closed", merged: true });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "policy-only");
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done(); // no search for the live grant, no revoke
  });
});

describe("a live grant merged into the default branch before it was renamed", () => {
  it("is still ended by a merged deletion on the new default branch", async () => {
    const state: CommentState = {
      v: 1, status: "APPROVED", path: PATH, blob: blobSha(CONTENT),
      grant: { requester: "alice", resource: "prod-admins", role: "member", duration: "2h", reason: "Investigate INC-4211: slow checkout queries" },
      approvers: ["pat"], standing: [], applied_at: "2026-11-29T12:30:00.000Z", starts_at: "2026-11-29T12:30:00.000Z", expires_at: "2026-11-29T14:30:00.000Z",
      target: { provider: "github-team", config: { org: "acme", team: "prod-admins" }, grant: {} },
    };
    const body = embedState("### jit-access · 🟢 Access granted", state);
    const live: Scenario = { pr: prFields({ state: "closed", merged: true, labels: ["jit:approved"], baseRef: "master" }), files: [{ filename: PATH, status: "added", content: CONTENT }], policy: POLICY, comments: [{ id: 55, login: "", byApp: true, body }] };
    const removal = prFields({ number: 20, author: "sam", state: "closed", merged: true });
    const hit = (number: number) => ({ number, user: { login: "alice" }, created_at: "2026-11-29T12:00:00Z", updated_at: "2026-11-29T12:30:01Z", repository_url: `https://api.github.com/repos/${OWNER}/${REPO}`, html_url: `https://github.com/${OWNER}/${REPO}/pull/${number}` });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, { pr: removal, files: [{ filename: PATH, status: "removed", content: CONTENT }], policy: POLICY }, "policy-only");
    api.get("/search/issues").query({ q: `is:pr is:merged label:"jit:approved" repo:${OWNER}/${REPO}`, per_page: 100 }).reply(200, { total_count: 1, incomplete_results: false, items: [hit(7)] });
    api.get(`${R}/issues/7/comments`).query({ per_page: 100 }).reply(200, [{ id: 55, body, performed_via_github_app: { id: APP_ID } }]);
    mockReads(api, live, "through-comments");
    api.delete(TEAM).reply(204);
    api.delete(`${R}/issues/7/labels/jit%3Aapproved`).reply(200, []);
    api.post(`${R}/issues/7/labels`, { labels: ["jit:revoked"] }).reply(200, []);
    let comment: any;
    api.patch(`${R}/issues/comments/55`, (b) => ((comment = b), true)).reply(200, {});
    await deliver(probot, "pull_request", pullRequestEvent("closed", removal));
    api.done();
    expect(readState(comment.body)).toMatchObject({ status: "REVOKED", ended_by: "its grant file was deleted in #20 by sam" });
  });
});
