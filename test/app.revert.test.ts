import { beforeEach, describe, expect, it } from "@jest/globals";
import type { Octokit } from "@octokit/rest";
import { blobSha, FakeGitHub, type AppRequest, type FakePull, type FakeRepo } from "../testkit/fake-github.js";
import { openRequest, push } from "../testkit/people.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { recordKey } from "../src/github/record.js";
import { evaluatePullRequest } from "../src/handlers/evaluate.js";
import { embedState, readState, type CommentState } from "../src/lifecycle/codec.js";
import type { Provider } from "../src/providers/types.js";
import { CODEOWNERS, grantYaml, POLICY, visible } from "./helpers/fixtures.js";

/**
 * Item 4 of issue #11: the app's end-of-grant PRs delete exactly one file. Anyone with write
 * access can create `jit-access/revert-<n>` first, push to it, or open a PR from it; the app
 * must never squash-merge their commit. Run against the stateful in-memory GitHub (git with
 * branches, commits, three-dot compares, pinned merges, protected branches), through the app's
 * evaluation; mallory acts through the REST API, between the app's requests where it matters.
 */
const APP_ID = 1;
const REPO = "acme/access";
const ref = { owner: "acme", repo: "access" };
const PATH = "grants/prod-admins/alice-1.yaml";
const CONTENT = grantYaml({ resource: "prod-admins", role: "member", duration: "2h" });
const EVIL_OWNERS = "* @mallory\n";
const AFTER_EXPIRY = new Date("2026-11-29T15:00:01Z");

beforeEach(() => resetLiveGrantCaches());

interface Live {
  fake: FakeGitHub;
  repo: FakeRepo;
  /** The request PR, merged, its grant applied and expired. */
  number: number;
  /** The grant's record: the app's check run on the request's head. */
  recordRun: number;
  /** The app's revert branch name for this request. */
  branch: string;
  mallory: Octokit;
}

/** A request alice opened and the app merged, its grant applied and recorded as the app leaves it; GitHub's clock then moves past its end. */
async function liveRepository(): Promise<Live> {
  let now = new Date("2026-11-29T12:00:00Z");
  const fake = new FakeGitHub({ appId: APP_ID, now: () => now });
  const repo = fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": CODEOWNERS }, { writers: ["alice", "mallory", "sam"] });
  const number = (await openRequest(fake.as("alice"), ref, { branch: "request-alice", path: PATH, content: CONTENT }))!;
  const app = fake.client();
  const head = fake.pull(REPO, number).headSha;
  await app.rest.pulls.merge({ ...ref, pull_number: number, merge_method: "squash" });
  const state: CommentState = {
    v: 1, status: "APPROVED", path: PATH, blob: blobSha(CONTENT),
    grant: { requester: "alice", resource: "prod-admins", role: "member", duration: "2h", reason: "Investigate INC-4211" },
    standing: [], applied_at: "2026-11-29T13:00:00.000Z", starts_at: "2026-11-29T13:00:00.000Z", expires_at: "2026-11-29T15:00:00.000Z",
    warned_at: "2026-11-29T14:50:00.000Z", target: { provider: "memory", config: {}, grant: {} },
  };
  const body = embedState("granted", state);
  const { data: run } = await app.rest.checks.create({ ...ref, name: "jit-access", external_id: recordKey({ repoId: fake.repo(ref.owner, ref.repo)!.id, number }), head_sha: head, status: "completed", conclusion: "success", output: { title: "Approved", summary: "approved", text: body } });
  await app.rest.issues.createComment({ ...ref, issue_number: number, body });
  await app.rest.issues.addLabels({ ...ref, issue_number: number, labels: ["jit:approved"] });
  now = AFTER_EXPIRY;
  fake.reset();
  return { fake, repo, number, recordRun: run.id, branch: `jit-access/revert-${number}`, mallory: fake.as("mallory") };
}

const memory = (): Provider => ({ units: (t) => [`team:${t.requester}`], held: async () => [], apply: async () => {}, revoke: async () => {}, describe: () => "in-memory access" });

async function evaluate(live: Live, errors: string[] = [], number = live.number) {
  const log = { info() {}, warn() {}, error: (m: string) => void errors.push(m) };
  return evaluatePullRequest(live.fake.client(), { ...ref, number }, { appId: APP_ID, now: () => AFTER_EXPIRY, providers: () => memory() }, log);
}

const mainHead = (repo: FakeRepo) => repo.git.resolve("main")!;
const onMain = (repo: FakeRepo, path: string) => {
  const blob = mainHead(repo).tree.get(path);
  return blob === undefined ? undefined : repo.git.blobs.get(blob);
};
const revertPulls = (live: Live) => [...live.repo.pulls.values()].filter((p) => p.headRef.startsWith(live.branch));
const statusComment = (live: Live) => live.repo.pulls.get(live.number)!.comments.find((c) => c.appId === APP_ID)!.body;
/** What the head commit of a PR changed against its one parent. */
const headCommit = (repo: FakeRepo, pr: FakePull) => {
  const head = repo.git.commits.get(pr.headSha)!;
  return { parents: head.parents, changes: repo.git.diff(repo.git.commits.get(head.parents[0]!), head).map((f) => [f.path, f.status]) };
};
/** The bodies of the app's merge requests, in order. */
const mergesOf = (fake: FakeGitHub) => {
  const merges: AppRequest["body"][] = [];
  fake.onRequest((r) => void (r.method === "PUT" && r.path.endsWith("/merge") && merges.push(r.body)));
  return merges;
};

/** One commit on main's head, as mallory makes it through the git data API: a branch created at it (or moved to it). */
async function commitOnBranch(live: Live, branch: string, change: { delete?: string[]; put?: Record<string, string> }): Promise<string> {
  const gh = live.mallory;
  const { data: main } = await gh.rest.git.getRef({ ...ref, ref: "heads/main" });
  const { data: base } = await gh.rest.git.getTree({ ...ref, tree_sha: main.object.sha });
  const entries = [
    ...(change.delete ?? []).map((path) => ({ path, mode: "100644" as const, type: "blob" as const, sha: null })),
    ...Object.entries(change.put ?? {}).map(([path, content]) => ({ path, mode: "100644" as const, type: "blob" as const, content })),
  ];
  const { data: tree } = await gh.rest.git.createTree({ ...ref, base_tree: base.sha, tree: entries });
  const { data: commit } = await gh.rest.git.createCommit({ ...ref, message: "revert", tree: tree.sha, parents: [main.object.sha] });
  await gh.rest.git.createRef({ ...ref, ref: `refs/heads/${branch}`, sha: commit.sha });
  return commit.sha;
}

describe("the revert PR that records the end of a grant", () => {
  it("is opened from a branch the app creates at the default branch's head, gets a successful jit-access check, and is merged pinned to its one commit", async () => {
    const live = await liveRepository();
    const { fake, repo } = live;
    const merges = mergesOf(fake);
    const mainBefore = mainHead(repo).sha;
    await evaluate(live);

    const [revert] = revertPulls(live);
    expect(revert).toMatchObject({ headRef: live.branch, baseRef: "main", merged: true, author: "jit-access[bot]" });
    expect(headCommit(repo, revert!)).toEqual({ parents: [mainBefore], changes: [[PATH, "removed"]] });
    expect(merges).toEqual([expect.objectContaining({ sha: revert!.headSha, merge_method: "squash" })]);
    // The request's record (kept, now saying how it ended) and the revert's one successful check.
    expect(repo.checkRuns).toEqual([
      expect.objectContaining({ id: live.recordRun, headSha: repo.pulls.get(live.number)!.headSha, externalId: recordKey({ repoId: repo.id, number: live.number }) }),
      expect.objectContaining({ headSha: revert!.headSha, name: "jit-access", appId: APP_ID, status: "completed", conclusion: "success" }),
    ]);
    expect(repo.checkRuns[0]!.output.text).toBe(statusComment(live)); // the comment shows the record
    expect(onMain(repo, PATH)).toBeUndefined();
    expect(onMain(repo, ".github/CODEOWNERS")).toBe(CODEOWNERS);
    expect(readState(statusComment(live))).toMatchObject({ status: "EXECUTED", revert_pr: revert!.number, revert_pending: false });
  });

  it("never merges a pre-created revert branch that carries an extra change: it alerts, says so on the request and records the end on a fresh branch", async () => {
    const live = await liveRepository();
    const { repo } = live;
    // Someone with write access prepares the app's branch name: one commit, the deletion plus their CODEOWNERS.
    await commitOnBranch(live, live.branch, { delete: [PATH], put: { ".github/CODEOWNERS": EVIL_OWNERS } });
    const errors: string[] = [];
    await evaluate(live, errors);

    expect(onMain(repo, ".github/CODEOWNERS")).toBe(CODEOWNERS); // their commit never reached main
    expect(onMain(repo, PATH)).toBeUndefined();
    const reverts = revertPulls(live);
    expect(reverts.map((p) => [p.headRef, p.merged])).toEqual([[`${live.branch}-2`, true]]);
    expect(errors).toEqual([expect.stringContaining(`revert tampering in acme/access: branch ${live.branch} holds commits jit-access did not make (1 ahead of main, 2 file(s) changed)`)]);
    expect(visible(statusComment(live))).toContain(`🚨 jit-access refused to merge changes it did not make under its revert branch names: branch ${live.branch} holds commits`);
    expect(readState(statusComment(live))).toMatchObject({ status: "EXECUTED", revert_pr: reverts[0]!.number, revert_pending: false });
  });

  it("never merges a pre-opened PR from the revert branch that changes another file too: it is labelled jit:revert-refused", async () => {
    const live = await liveRepository();
    const { repo } = live;
    await commitOnBranch(live, live.branch, { delete: [PATH], put: { ".github/CODEOWNERS": EVIL_OWNERS } });
    const { data: theirs } = await live.mallory.rest.pulls.create({ ...ref, head: live.branch, base: "main", title: "revert" });
    const errors: string[] = [];
    await evaluate(live, errors);

    expect(repo.pulls.get(theirs.number)).toMatchObject({ merged: false, state: "open", labels: ["jit:revert-refused"] });
    expect(onMain(repo, ".github/CODEOWNERS")).toBe(CODEOWNERS);
    expect(revertPulls(live).filter((p) => p.merged).map((p) => p.headRef)).toEqual([`${live.branch}-2`]);
    expect(errors).toEqual([expect.stringContaining(`#${theirs.number} (from ${live.branch}) changes more than the deletion of grants/prod-admins/alice-1.yaml in one commit`)]);
  });

  it("never merges a pre-opened PR that deletes exactly the grant file but into another base", async () => {
    const live = await liveRepository();
    const { repo } = live;
    const { data: main } = await live.mallory.rest.git.getRef({ ...ref, ref: "heads/main" });
    await live.mallory.rest.git.createRef({ ...ref, ref: "refs/heads/friends", sha: main.object.sha });
    await commitOnBranch(live, live.branch, { delete: [PATH] });
    const { data: theirs } = await live.mallory.rest.pulls.create({ ...ref, head: live.branch, base: "friends", title: "revert" });
    await evaluate(live);

    expect(repo.pulls.get(theirs.number)).toMatchObject({ merged: false, labels: ["jit:revert-refused"] });
    expect(revertPulls(live).filter((p) => p.merged).map((p) => [p.headRef, p.baseRef])).toEqual([[`${live.branch}-2`, "main"]]);
  });

  it("a push to its branch between the check and the merge makes GitHub refuse the pinned merge; the retry refuses that branch and records the end on a fresh one", async () => {
    const live = await liveRepository();
    const { fake, repo } = live;
    let pushed = false;
    fake.onRequest(async (r) => {
      if (r.method !== "PUT" || !r.path.endsWith("/merge") || pushed) return;
      pushed = true;
      await push(live.mallory, ref, { branch: live.branch, path: ".github/CODEOWNERS", content: EVIL_OWNERS });
    });
    await evaluate(live);
    expect(onMain(repo, ".github/CODEOWNERS")).toBe(CODEOWNERS);
    expect(revertPulls(live).map((p) => [p.headRef, p.merged, p.labels])).toEqual([[live.branch, false, ["jit:revert-blocked"]]]);
    expect(visible(statusComment(live))).toContain("could not be merged: Head branch was modified.");
    expect(readState(statusComment(live))).toMatchObject({ status: "EXECUTED", revert_pending: true });
    expect(repo.pulls.get(live.number)!.labels).toContain("jit:revert-blocked");

    // The sweep's retry: the PR on the first name no longer verifies.
    const errors: string[] = [];
    await evaluate(live, errors);
    expect(onMain(repo, ".github/CODEOWNERS")).toBe(CODEOWNERS);
    expect(onMain(repo, PATH)).toBeUndefined();
    expect(revertPulls(live).map((p) => [p.headRef, p.merged])).toEqual([[live.branch, false], [`${live.branch}-2`, true]]);
    expect(revertPulls(live)[0]!.labels).toEqual(["jit:revert-blocked", "jit:revert-refused"]);
    expect(errors).toEqual([expect.stringContaining("changes more than the deletion of grants/prod-admins/alice-1.yaml in one commit")]);
    expect(readState(statusComment(live))).toMatchObject({ status: "EXECUTED", revert_pending: false, revert_pr: revertPulls(live)[1]!.number });
    expect(repo.pulls.get(live.number)!.labels).not.toContain("jit:revert-blocked");
  });

  it("its own pull_request events leave its successful check alone", async () => {
    const live = await liveRepository();
    const { fake, repo } = live;
    fake.protect(REPO, "main", { requiredChecks: ["ci"] });
    await evaluate(live); // opened, checked, merge blocked ("ci" never ran): the PR stays open
    const [revert] = revertPulls(live);
    expect(revert).toMatchObject({ state: "open", merged: false });
    expect(visible(statusComment(live))).toContain('Required status check "ci" is expected.');
    const before = structuredClone(repo.checkRuns);
    fake.reset();
    // What `pull_request.opened` (or a redelivery) for the revert PR runs: it is a removal PR.
    await evaluate(live, [], revert!.number);
    expect(repo.checkRuns).toEqual(before);
    // main has not moved since the last evaluation: its policy is known, only where it points is read.
    expect(fake.requests).toEqual([`GET /repos/acme/access/pulls/${revert!.number}`, "GET /repos/acme/access/git/ref/heads%2Fmain", `GET /repos/acme/access/pulls/${revert!.number}/files`]);
  });

  it("a retry finds its own blocked PR, verifies it and merges it pinned, without a second check run", async () => {
    const live = await liveRepository();
    const { fake, repo } = live;
    fake.protect(REPO, "main", { requiredApprovals: 1 });
    const merges = mergesOf(fake);
    await evaluate(live);
    expect(readState(statusComment(live))).toMatchObject({ revert_pending: true });
    expect(visible(statusComment(live))).toContain("At least 1 approving review is required by reviewers with write access.");

    // A reviewer approves the blocked revert; the sweep retries.
    await fake.as("sam").rest.pulls.createReview({ ...ref, pull_number: revertPulls(live)[0]!.number, event: "APPROVE" });
    fake.reset();
    await evaluate(live);
    const reverts = revertPulls(live);
    const requestHead = repo.pulls.get(live.number)!.headSha;
    expect(reverts.map((p) => [p.headRef, p.merged])).toEqual([[live.branch, true]]);
    expect(merges.map((m) => m.sha)).toEqual([reverts[0]!.headSha, reverts[0]!.headSha]);
    expect(repo.checkRuns.map((r) => r.headSha)).toEqual([requestHead, reverts[0]!.headSha]); // the record, and one check on the revert
    expect(fake.requests.filter((r) => r.includes("/pulls") || r.includes("/compare/") || r.includes("check-runs"))).toEqual([
      `GET /repos/acme/access/pulls/${live.number}`,
      // Its files are not read again: the same head and default-branch commit as the last evaluation (github/fixed-reads.ts).
      `GET /repos/acme/access/commits/${requestHead}/check-runs`, // the request's record
      "GET /repos/acme/access/pulls",
      `GET /repos/acme/access/compare/main...${reverts[0]!.headSha}`,
      `GET /repos/acme/access/commits/${reverts[0]!.headSha}/check-runs`, // the revert's check: found, not created again
      `PUT /repos/acme/access/pulls/${reverts[0]!.number}/merge`,
      `GET /repos/acme/access/pulls/${reverts[0]!.number}`, // merged into main (the merge call cannot pin the base)
      `PATCH /repos/acme/access/check-runs/${live.recordRun}`, // the merge recorded, before the comment shows it
    ]);
    expect(readState(statusComment(live))).toMatchObject({ status: "EXECUTED", revert_pending: false });
  });
});
