import { beforeEach, describe, expect, it } from "@jest/globals";
import type { Probot } from "probot";
import { embedState, readState, type CommentState } from "../src/lifecycle/codec.js";
import { APP_ID, deliver, mockInstallationToken, startApp } from "./helpers/app.js";
import { blobSha, grantYaml, HEAD, POLICY, visible } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { OWNER, pullRequestEvent, REPO, reviewEvent } from "./helpers/payloads.js";
import { mockFreshRecord, mockGrantOnMain, mockReads, mockRecordWrites, mockTree, prFields, R, recordRun, type Scenario, mockPathHistory } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

/**
 * docs/reference/access-repository.md: only PRs into the default branch are requests or deletions of live grants. The
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
    mockReads(api, sc, "through-comments"); // check runs and timeline; no grant content, no CODEOWNERS (of any branch), no reviews
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
    api.put(`${R}/issues/7/labels`, { labels: ["jit:rejected"] }).reply(200, []);
    const records: string[] = [];
    mockRecordWrites(api, 1, records);
    let comment: any;
    api.patch(`${R}/issues/comments/55`, (b) => ((comment = b), true)).reply(200, {});
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done(); // no team membership call (nothing applied), no revert branch or PR
    expect(records).toEqual([comment.body]); // the record first, then its display

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
    mockReads(api, sc, "policy-only"); // its check runs too: a check it already has is not created again
    let check: any;
    api.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 1 });
    await deliver(probot, "pull_request", pullRequestEvent("opened", sc.pr));
    api.done();
    expect(check).toMatchObject({ conclusion: "failure", output: { title: "Not against the default branch" } });
    expect(check.output.annotations.map((a: any) => [a.path, a.message])).toEqual([
      [PATH, "this pull request targets friends, not the default branch main: deleting a grant file there ends no grant. Change its base to main."],
    ]);

    // Redelivered: the failing check it already has is found, and nothing is written again.
    const again = githubApi();
    mockReads(again, { ...sc, checkRuns: [recordRun(check.output.text, { id: 1, conclusion: "failure", output: check.output }, 20)] }, "policy-only");
    await deliver(probot, "pull_request", pullRequestEvent("opened", sc.pr));
    again.done();
  });

  it("merged there, revokes nothing: no live grant is even looked up", async () => {
    const sc = { ...removal({ state: "closed", merged: true }), checkRuns: null }; // nor its check runs: closed, it gets no check
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
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, { pr: removal, files: [{ filename: PATH, status: "removed", content: CONTENT }], policy: POLICY, checkRuns: null }, "policy-only");
    // Git history of main (the renamed master): the deletion (#20) and the request that added the
    // file (#7), merged into master, as GitHub still names a closed PR's base after a rename.
    mockPathHistory(api, PATH, [{ pr: 20, headSha: "2".repeat(40), mergedAt: "2026-11-29T13:59:00Z" }, { pr: 7, headSha: HEAD, mergedAt: "2026-11-29T12:30:00Z", base: "master" }]);
    // #7 is evaluated under its own key: its record says live, and its file is gone from main.
    mockReads(api, live, "through-comments");
    mockGrantOnMain(api, PATH, null);
    mockTree(api, []); // reference counting: no other grant of hers on main
    mockFreshRecord(api, body); // read again in her turn: not ended meanwhile
    api.delete(TEAM).reply(204);
    api.put(`${R}/issues/7/labels`, { labels: ["jit:revoked"] }).reply(200, []);
    const records: string[] = [];
    mockRecordWrites(api, 1, records);
    let comment: any;
    api.patch(`${R}/issues/comments/55`, (b) => ((comment = b), true)).reply(200, {});
    await deliver(probot, "pull_request", pullRequestEvent("closed", removal));
    api.done(); // no revert PR: the file is already gone
    expect(records).toEqual([comment.body]);
    // The handler no longer passes who deleted it: the request finds its file gone from main.
    expect(readState(comment.body)).toMatchObject({ status: "REVOKED", ended_by: "its grant file was removed from main", revert_pending: false });
  });
});
