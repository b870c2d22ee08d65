import { describe, expect, it } from "@jest/globals";
import { FAKE_ROUTES, FakeGitHub } from "../testkit/fake-github.js";
import { deleteThroughPullRequest, openRequest } from "../testkit/people.js";
import { ROUTES } from "./helpers/routes.js";

/**
 * The in-memory GitHub that benchmarks and the lifecycle property test run against: it may only
 * serve GitHub's real routes, and it must behave as GitHub does where the app's safety depends on it.
 */
const APP_ID = 9;
const ref = { owner: "acme", repo: "access" };

function world() {
  const fake = new FakeGitHub({ appId: APP_ID, now: () => new Date("2026-11-29T12:00:00Z") });
  fake.addRepo("acme", "access", { ".github/jit-access.yml": "version: 1\n" }, { writers: ["alice", "mallory"] });
  return fake;
}

describe("the in-memory GitHub", () => {
  it("serves only routes of GitHub's REST route table (as Octokit ships it)", () => {
    const unknown = FAKE_ROUTES.filter((r) => !ROUTES.some((known) => known.method === r.method && known.template === r.template));
    expect(unknown.map((r) => `${r.method} ${r.template}`)).toEqual([]);
    expect(FAKE_ROUTES.length).toBeGreaterThan(30);
  });

  it("answers 501 for a route it does not serve, so no call goes unnoticed", async () => {
    const fake = world();
    await expect(fake.client().rest.repos.listBranches({ ...ref })).rejects.toMatchObject({ status: 501 });
  });

  it("a merge commits the PR's files to main, and git history links the commit back to the PR", async () => {
    const fake = world();
    const alice = fake.as("alice");
    const number = (await openRequest(alice, ref, { branch: "req", path: "grants/db/alice.yaml", content: "requester: alice\n" }))!;
    await alice.rest.pulls.merge({ ...ref, pull_number: number, merge_method: "squash" });
    const gh = fake.client();
    const { data: tree } = await gh.rest.git.getTree({ ...ref, tree_sha: "main", recursive: "true" });
    expect(tree.tree.map((e) => e.path)).toContain("grants/db/alice.yaml");
    const { data: commits } = await gh.rest.repos.listCommits({ ...ref, sha: "main", path: "grants/db/alice.yaml" });
    expect(commits).toHaveLength(1);
    const { data: pulls } = await gh.rest.repos.listPullRequestsAssociatedWithCommit({ ...ref, commit_sha: commits[0]!.sha });
    expect(pulls.map((p) => [p.number, !!p.merged_at])).toEqual([[number, true]]);

    await deleteThroughPullRequest(alice, ref, { branch: "rm", path: "grants/db/alice.yaml" });
    await expect(gh.rest.repos.getContent({ ...ref, path: "grants/db/alice.yaml", ref: "main" })).rejects.toMatchObject({ status: 404 });
    expect((await gh.rest.repos.listCommits({ ...ref, sha: "main", path: "grants/db/alice.yaml" })).data).toHaveLength(2);
  });

  it("only the app that created a check run can change it; people cannot create one", async () => {
    const fake = world();
    const alice = fake.as("alice");
    const number = (await openRequest(alice, ref, { branch: "req", path: "grants/db/alice.yaml", content: "x: 1\n" }))!;
    const head = fake.pull("acme/access", number).headSha;
    const { data: run } = await fake.client().rest.checks.create({ ...ref, name: "jit-access", head_sha: head, status: "completed", conclusion: "neutral", output: { title: "t", summary: "s", text: "record" } });
    await expect(fake.asOtherApp(15368).rest.checks.update({ ...ref, check_run_id: run.id, output: { title: "t", summary: "s", text: "forged" } })).rejects.toMatchObject({ status: 403 });
    await expect(alice.rest.checks.create({ ...ref, name: "jit-access", head_sha: head, output: { title: "t", summary: "s" } })).rejects.toMatchObject({ status: 403 });
    const { data } = await fake.client().rest.checks.listForRef({ ...ref, ref: head, check_name: "jit-access", app_id: APP_ID, filter: "all" });
    expect(data.check_runs.map((r) => r.output.text)).toEqual(["record"]);
  });

  it("a person's edit of the app's comment keeps the app's mark and moves updated_at; a deleted comment leaves the timeline", async () => {
    let now = new Date("2026-11-29T12:00:00Z");
    const fake = new FakeGitHub({ appId: APP_ID, now: () => now });
    fake.addRepo("acme", "access", { "README.md": "hi\n" }, { writers: ["mallory"] });
    const mallory = fake.as("mallory");
    const number = (await openRequest(mallory, ref, { branch: "b", path: "x.txt", content: "x\n" }))!;
    const { data: c } = await fake.client().rest.issues.createComment({ ...ref, issue_number: number, body: "status" });
    now = new Date("2026-11-29T12:00:05Z");
    await mallory.rest.issues.updateComment({ ...ref, comment_id: c.id, body: "forged" });
    const timeline = async () => (await fake.client().rest.issues.listEventsForTimeline({ ...ref, issue_number: number })).data as Record<string, any>[];
    expect((await timeline()).find((e) => e.id === c.id)).toMatchObject({ body: "forged", performed_via_github_app: { id: APP_ID }, created_at: "2026-11-29T12:00:00Z", updated_at: "2026-11-29T12:00:05Z" });
    await mallory.rest.issues.deleteComment({ ...ref, comment_id: c.id });
    expect((await timeline()).some((e) => e.id === c.id)).toBe(false);
  });

  it("removing a label the PR does not carry is a 404, as on GitHub; changes queue the webhooks GitHub would send", async () => {
    const fake = world();
    const alice = fake.as("alice");
    const number = (await openRequest(alice, ref, { branch: "b", path: "grants/db/a.yaml", content: "a\n" }))!;
    await expect(alice.rest.issues.removeLabel({ ...ref, issue_number: number, name: "jit:approved" })).rejects.toMatchObject({ status: 404 });
    await alice.rest.issues.addLabels({ ...ref, issue_number: number, labels: ["jit:approved"] });
    expect(fake.deliveries.map((d) => `${d.name}.${d.action}`)).toEqual(["pull_request.opened", "pull_request.labeled"]);
    expect(fake.deliveries[0]!.payload).toMatchObject({ installation: { id: 4242 }, pull_request: { number }, repository: { full_name: "acme/access" } });
  });

  it("a PR deleting a file main already lost merges cleanly (the same change); a conflicting one is refused", async () => {
    const fake = world();
    const alice = fake.as("alice");
    const number = (await openRequest(alice, ref, { branch: "a", path: "grants/db/a.yaml", content: "one\n" }))!;
    await alice.rest.pulls.merge({ ...ref, pull_number: number });
    const gh = fake.client();
    const { data: main } = await gh.rest.git.getRef({ ...ref, ref: "heads/main" });
    await gh.rest.git.createRef({ ...ref, ref: "refs/heads/revert", sha: main.object.sha });
    const { data: file } = await gh.rest.repos.getContent({ ...ref, path: "grants/db/a.yaml", ref: "main" });
    await gh.rest.repos.deleteFile({ ...ref, path: "grants/db/a.yaml", sha: (file as { sha: string }).sha, branch: "revert", message: "end" });
    const { data: revert } = await gh.rest.pulls.create({ ...ref, head: "revert", base: "main", title: "end" });
    await deleteThroughPullRequest(alice, ref, { branch: "rm", path: "grants/db/a.yaml" });
    await expect(gh.rest.pulls.merge({ ...ref, pull_number: revert.number })).resolves.toMatchObject({ status: 200 });

    await openRequest(alice, ref, { branch: "c1", path: "grants/db/c.yaml", content: "one\n" });
    const second = (await openRequest(alice, ref, { branch: "c2", path: "grants/db/c.yaml", content: "two\n" }))!;
    await alice.rest.pulls.merge({ ...ref, pull_number: second - 1 });
    await expect(alice.rest.pulls.merge({ ...ref, pull_number: second })).rejects.toMatchObject({ status: 405 });
  });

  it("compares three dots from the merge base, commits through the git data API, and answers a deletion with its commit's parent", async () => {
    const fake = world();
    const mallory = fake.as("mallory");
    const { data: main } = await mallory.rest.git.getRef({ ...ref, ref: "heads/main" });
    // One commit changing two files, on a new branch: a tree on main's tree, a commit, a ref.
    const { data: tree } = await mallory.rest.git.createTree({ ...ref, base_tree: (await fake.client().rest.git.getTree({ ...ref, tree_sha: "main" })).data.sha, tree: [{ path: "a.txt", mode: "100644", type: "blob", content: "a\n" }, { path: ".github/jit-access.yml", mode: "100644", type: "blob", sha: null }] });
    const { data: commit } = await mallory.rest.git.createCommit({ ...ref, message: "two changes", tree: tree.sha, parents: [main.object.sha] });
    expect(commit.parents.map((p) => p.sha)).toEqual([main.object.sha]);
    await mallory.rest.git.createRef({ ...ref, ref: "refs/heads/feature/x", sha: commit.sha });
    const { data: cmp } = await fake.client().rest.repos.compareCommitsWithBasehead({ ...ref, basehead: "main...feature/x" });
    expect(cmp).toMatchObject({ status: "ahead", ahead_by: 1, behind_by: 0, commits: [{ sha: commit.sha }] });
    expect(cmp.files!.map((f) => [f.filename, f.status])).toEqual([[".github/jit-access.yml", "removed"], ["a.txt", "added"]]);

    // A deletion through the contents API names the commit it was made on.
    const { data: file } = await mallory.rest.repos.getContent({ ...ref, path: "a.txt", ref: "feature/x" });
    const { data: deleted } = await mallory.rest.repos.deleteFile({ ...ref, path: "a.txt", branch: "feature/x", sha: (file as { sha: string }).sha, message: "rm" });
    expect((deleted.commit.parents ?? []).map((p) => p.sha)).toEqual([commit.sha]);
    // Main moves on: the comparison is still from the merge base, now diverged.
    await mallory.rest.repos.createOrUpdateFileContents({ ...ref, path: "b.txt", message: "b", content: Buffer.from("b\n").toString("base64") });
    const { data: later } = await fake.client().rest.repos.compareCommitsWithBasehead({ ...ref, basehead: `main...${deleted.commit.sha}`, per_page: 1 });
    expect(later).toMatchObject({ status: "diverged", ahead_by: 2, behind_by: 1, commits: [{ sha: commit.sha }] });
    expect(later.files!.map((f) => f.filename)).toEqual([".github/jit-access.yml"]);
  });

  it("moves a branch through the git data API only forward unless forced, and open PRs from it follow", async () => {
    const fake = world();
    const alice = fake.as("alice");
    const number = (await openRequest(alice, ref, { branch: "req", path: "grants/db/alice.yaml", content: "one\n" }))!;
    const before = fake.pull("acme/access", number).headSha;
    const { data: main } = await alice.rest.git.getRef({ ...ref, ref: "heads/main" });
    await expect(alice.rest.git.updateRef({ ...ref, ref: "heads/req", sha: main.object.sha })).rejects.toMatchObject({ status: 422 });
    fake.deliveries.length = 0;
    await alice.rest.git.updateRef({ ...ref, ref: "heads/req", sha: main.object.sha, force: true });
    expect(fake.pull("acme/access", number).headSha).toBe(main.object.sha);
    expect(fake.pull("acme/access", number).headSha).not.toBe(before);
    expect(fake.deliveries.map((d) => `${d.name}.${d.action}`)).toEqual(["pull_request.synchronize"]);
  });

  it("a protected branch refuses merges its rules do not allow, with GitHub's messages; a test can act between the app's requests", async () => {
    const fake = world();
    fake.protect("acme/access", "main", { requiredChecks: ["ci"], requiredApprovals: 1 });
    const alice = fake.as("alice");
    const number = (await openRequest(alice, ref, { branch: "req", path: "grants/db/alice.yaml", content: "one\n" }))!;
    const gh = fake.client();
    const seen: string[] = [];
    fake.onRequest(async (r) => void seen.push(`${r.method} ${r.path} ${JSON.stringify(r.body)}`));
    await expect(gh.rest.pulls.merge({ ...ref, pull_number: number })).rejects.toMatchObject({ status: 405, message: expect.stringContaining('Required status check "ci" is expected.') });
    await gh.rest.checks.create({ ...ref, name: "ci", head_sha: fake.pull("acme/access", number).headSha, status: "completed", conclusion: "success" });
    await expect(gh.rest.pulls.merge({ ...ref, pull_number: number })).rejects.toMatchObject({ status: 405, message: expect.stringContaining("At least 1 approving review is required by reviewers with write access.") });
    await fake.as("mallory").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
    await expect(gh.rest.pulls.merge({ ...ref, pull_number: number, sha: fake.pull("acme/access", number).headSha })).resolves.toMatchObject({ status: 200 });
    expect(seen.filter((r) => r.startsWith("PUT"))).toEqual([`PUT /repos/acme/access/pulls/${number}/merge {}`, `PUT /repos/acme/access/pulls/${number}/merge {}`, `PUT /repos/acme/access/pulls/${number}/merge {"sha":"${fake.pull("acme/access", number).headSha}"}`]);
    expect(seen).toHaveLength(4); // the app's requests only, not mallory's review
  });

  it("bypass actors merge without the required reviews but not without the checks; restricted merges are the listed actors' only", async () => {
    const fake = world();
    fake.protect("acme/access", "main", { requiredChecks: ["ci"], requiredApprovals: 1, bypassReviews: ["jit-access[bot]"], restrictPushesTo: ["jit-access[bot]"] });
    const alice = fake.as("alice");
    const number = (await openRequest(alice, ref, { branch: "req", path: "grants/db/alice.yaml", content: "one\n" }))!;
    const gh = fake.client();
    await expect(gh.rest.pulls.merge({ ...ref, pull_number: number })).rejects.toMatchObject({ status: 405, message: expect.stringContaining('Required status check "ci" is expected.') });
    await gh.rest.checks.create({ ...ref, name: "ci", head_sha: fake.pull("acme/access", number).headSha, status: "completed", conclusion: "success" });
    await fake.as("mallory").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
    await expect(alice.rest.pulls.merge({ ...ref, pull_number: number })).rejects.toMatchObject({ status: 405, message: expect.stringContaining("You're not authorized to push to this branch.") });
    // The review is not what lets the app through: dismissed, the app still merges.
    fake.pull("acme/access", number).reviews.length = 0;
    await expect(gh.rest.pulls.merge({ ...ref, pull_number: number })).resolves.toMatchObject({ status: 200 });
  });
});
