import { beforeEach, describe, expect, it } from "@jest/globals";
import { blobSha, emptyPull, FakeGitHub, type FakeRepo } from "../src/bench/fake-github.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { evaluatePullRequest } from "../src/handlers/evaluate.js";
import { embedState, readState, type CommentState } from "../src/lifecycle/state-block.js";
import type { Provider } from "../src/providers/types.js";
import { CODEOWNERS, grantYaml, POLICY, visible } from "./helpers/fixtures.js";

/**
 * Item 4 of issue #11: the app's end-of-grant PRs delete exactly one file. Anyone with write
 * access can create `jit-access/revert-<n>` first, push to it, or open a PR from it; the app
 * must never squash-merge their commit. Run against the stateful in-memory GitHub (a small git:
 * branches, commits, three-dot compares, pinned merges), through the app's evaluation.
 */
const APP_ID = 1;
const REPO = "acme/access";
const PATH = "grants/prod-admins/alice-1.yaml";
const CONTENT = grantYaml({ resource: "prod-admins", role: "member", duration: "2h" });
const EVIL_OWNERS = "* @mallory\n";
const AFTER_EXPIRY = new Date("2026-11-29T15:00:01Z");
const RECORD_RUN = 77;

beforeEach(() => resetLiveGrantCaches());

function liveRepository(): { fake: FakeGitHub; repo: FakeRepo; removed: string[] } {
  const fake = new FakeGitHub(APP_ID);
  const state: CommentState = {
    v: 1, status: "APPROVED", path: PATH, blob: blobSha(CONTENT),
    grant: { requester: "alice", resource: "prod-admins", role: "member", duration: "2h", reason: "Investigate INC-4211" },
    standing: [], applied_at: "2026-11-29T13:00:00.000Z", starts_at: "2026-11-29T13:00:00.000Z", expires_at: "2026-11-29T15:00:00.000Z",
    warned_at: "2026-11-29T14:50:00.000Z", target: { provider: "memory", config: {}, grant: {} },
  };
  const request = {
    ...emptyPull(7, "alice"), state: "closed" as const, merged: true, labels: ["jit:approved"], createdAt: "2026-11-29T12:00:00Z",
    files: [{ filename: PATH, status: "added", content: CONTENT }], comments: [{ id: 55, byApp: true, login: "jit-access[bot]", body: embedState("granted", state) }],
  };
  // The grant's record: the app's check run on the request's head, whose text the status comment copies.
  const record = { id: RECORD_RUN, headSha: request.headSha, name: "jit-access", externalId: "acme/access#7", status: "completed", conclusion: "success", output: { title: "Approved", summary: "approved", text: embedState("granted", state) } };
  const repo: FakeRepo = {
    owner: "acme", repo: "access", checkRuns: [record], pulls: new Map([[7, request]]),
    files: new Map([["main", new Map([[".github/jit-access.yml", POLICY], [".github/CODEOWNERS", CODEOWNERS], [PATH, CONTENT]])]]),
  };
  fake.repos.set(REPO, repo);
  return { fake, repo, removed: [] };
}

const memory = (): Provider => ({ units: (t) => [`team:${t.requester}`], held: async () => [], apply: async () => {}, revoke: async () => {}, describe: () => "in-memory access" });

async function evaluate(fake: FakeGitHub, errors: string[] = []) {
  const log = { info() {}, warn() {}, error: (m: string) => void errors.push(m) };
  return evaluatePullRequest(fake.client(), { owner: "acme", repo: "access", number: 7 }, { appId: APP_ID, now: () => AFTER_EXPIRY, providers: () => memory() }, log);
}

const main = (repo: FakeRepo) => repo.files.get("main")!;
const revertPulls = (repo: FakeRepo) => [...repo.pulls.values()].filter((p) => p.headRef?.startsWith("jit-access/revert-7"));
const statusComment = (repo: FakeRepo) => repo.pulls.get(7)!.comments[0]!.body;

describe("the revert PR that records the end of a grant", () => {
  it("is opened from a branch the app creates at the default branch's head, gets a successful jit-access check, and is merged pinned to its one commit", async () => {
    const { fake, repo } = liveRepository();
    const merges: any[] = [];
    fake.onRequest = (method, path, body) => void (method === "PUT" && path.endsWith("/merge") && merges.push(body));
    await evaluate(fake);

    const [revert] = revertPulls(repo);
    expect(revert).toMatchObject({ headRef: "jit-access/revert-7", baseRef: "main", merged: true });
    expect(revert!.files.map((f) => [f.filename, f.status])).toEqual([[PATH, "removed"]]);
    expect(merges).toEqual([expect.objectContaining({ sha: revert!.headSha, merge_method: "squash" })]);
    // The request's record (kept, now saying how it ended) and the revert's one successful check.
    expect(repo.checkRuns).toEqual([
      expect.objectContaining({ id: RECORD_RUN, headSha: repo.pulls.get(7)!.headSha, externalId: "acme/access#7" }),
      expect.objectContaining({ headSha: revert!.headSha, status: "completed", conclusion: "success" }),
    ]);
    expect(repo.checkRuns[0]!.output.text).toBe(statusComment(repo)); // the comment shows the record
    expect(main(repo).has(PATH)).toBe(false);
    expect(main(repo).get(".github/CODEOWNERS")).toBe(CODEOWNERS);
    expect(readState(statusComment(repo))).toMatchObject({ status: "EXECUTED", revert_pr: revert!.number, revert_pending: false });
  });

  it("never merges a pre-created revert branch that carries an extra change: it alerts, says so on the request and records the end on a fresh branch", async () => {
    const { fake, repo } = liveRepository();
    // Someone with write access prepares the app's branch name: the deletion plus their CODEOWNERS.
    fake.push(REPO, "jit-access/revert-7", { delete: [PATH], put: { ".github/CODEOWNERS": EVIL_OWNERS } });
    const errors: string[] = [];
    await evaluate(fake, errors);

    expect(main(repo).get(".github/CODEOWNERS")).toBe(CODEOWNERS); // their commit never reached main
    expect(main(repo).has(PATH)).toBe(false);
    const reverts = revertPulls(repo);
    expect(reverts.map((p) => [p.headRef, p.merged])).toEqual([["jit-access/revert-7-2", true]]);
    expect(errors).toEqual([expect.stringContaining("revert tampering in acme/access: branch jit-access/revert-7 holds commits jit-access did not make (1 ahead of main, 2 file(s) changed)")]);
    expect(visible(statusComment(repo))).toContain("🚨 jit-access refused to merge changes it did not make under its revert branch names: branch jit-access/revert-7 holds commits");
    expect(readState(statusComment(repo))).toMatchObject({ status: "EXECUTED", revert_pr: reverts[0]!.number, revert_pending: false });
  });

  it("never merges a pre-opened PR from the revert branch that changes another file too: it is labelled jit:revert-refused", async () => {
    const { fake, repo } = liveRepository();
    const sha = fake.push(REPO, "jit-access/revert-7", { delete: [PATH], put: { ".github/CODEOWNERS": EVIL_OWNERS } });
    repo.pulls.set(12, { ...emptyPull(12, "mallory"), headRef: "jit-access/revert-7", baseRef: "main", headSha: sha, files: [{ filename: PATH, status: "removed", content: "" }, { filename: ".github/CODEOWNERS", status: "modified", content: EVIL_OWNERS }] });
    const errors: string[] = [];
    await evaluate(fake, errors);

    expect(repo.pulls.get(12)).toMatchObject({ merged: false, state: "open", labels: ["jit:revert-refused"] });
    expect(main(repo).get(".github/CODEOWNERS")).toBe(CODEOWNERS);
    expect(revertPulls(repo).filter((p) => p.merged).map((p) => p.headRef)).toEqual(["jit-access/revert-7-2"]);
    expect(errors).toEqual([expect.stringContaining("#12 (from jit-access/revert-7) changes more than the deletion of grants/prod-admins/alice-1.yaml in one commit")]);
  });

  it("never merges a pre-opened PR that deletes exactly the grant file but into another base", async () => {
    const { fake, repo } = liveRepository();
    const sha = fake.push(REPO, "jit-access/revert-7", { delete: [PATH] });
    repo.pulls.set(12, { ...emptyPull(12, "mallory"), headRef: "jit-access/revert-7", baseRef: "friends", headSha: sha, files: [{ filename: PATH, status: "removed", content: "" }] });
    await evaluate(fake);
    expect(repo.pulls.get(12)).toMatchObject({ merged: false, labels: ["jit:revert-refused"] });
    expect(revertPulls(repo).filter((p) => p.merged).map((p) => [p.headRef, p.baseRef])).toEqual([["jit-access/revert-7-2", "main"]]);
  });

  it("a push to its branch between the check and the merge makes GitHub refuse the pinned merge; the retry refuses that branch and records the end on a fresh one", async () => {
    const { fake, repo } = liveRepository();
    let pushed = false;
    fake.onRequest = (method, path) => {
      if (method === "PUT" && path.endsWith("/merge") && !pushed) {
        pushed = true;
        fake.push(REPO, "jit-access/revert-7", { put: { ".github/CODEOWNERS": EVIL_OWNERS } });
      }
    };
    await evaluate(fake);
    expect(main(repo).get(".github/CODEOWNERS")).toBe(CODEOWNERS);
    expect(revertPulls(repo).map((p) => [p.headRef, p.merged, p.labels])).toEqual([["jit-access/revert-7", false, ["jit:revert-blocked"]]]);
    expect(visible(statusComment(repo))).toContain("could not be merged: Head branch was modified.");
    expect(readState(statusComment(repo))).toMatchObject({ status: "EXECUTED", revert_pending: true });
    expect(repo.pulls.get(7)!.labels).toContain("jit:revert-blocked");

    // The sweep's retry: the PR on the first name no longer verifies.
    const errors: string[] = [];
    await evaluate(fake, errors);
    expect(main(repo).get(".github/CODEOWNERS")).toBe(CODEOWNERS);
    expect(main(repo).has(PATH)).toBe(false);
    expect(revertPulls(repo).map((p) => [p.headRef, p.merged])).toEqual([["jit-access/revert-7", false], ["jit-access/revert-7-2", true]]);
    expect(revertPulls(repo)[0]!.labels).toEqual(["jit:revert-blocked", "jit:revert-refused"]);
    expect(errors).toEqual([expect.stringContaining("changes more than the deletion of grants/prod-admins/alice-1.yaml in one commit")]);
    expect(readState(statusComment(repo))).toMatchObject({ status: "EXECUTED", revert_pending: false, revert_pr: revertPulls(repo)[1]!.number });
    expect(repo.pulls.get(7)!.labels).not.toContain("jit:revert-blocked");
  });

  it("its own pull_request events leave its successful check alone", async () => {
    const { fake, repo } = liveRepository();
    fake.onRequest = (method, path) => (method === "PUT" && path.endsWith("/merge") ? { status: 405, body: { message: "Required status check \"ci\" is expected." } } : undefined);
    await evaluate(fake); // opened, checked, merge blocked: the PR stays open
    const [revert] = revertPulls(repo);
    const before = structuredClone(repo.checkRuns);
    fake.reset();
    // What `pull_request.opened` (or a redelivery) for the revert PR runs: it is a removal PR.
    await evaluatePullRequest(fake.client(), { owner: "acme", repo: "access", number: revert!.number }, { appId: APP_ID, now: () => AFTER_EXPIRY, providers: () => memory() }, { info() {}, warn() {}, error() {} });
    expect(repo.checkRuns).toEqual(before);
    expect(fake.requests).toEqual([`GET /repos/acme/access/pulls/${revert!.number}`, "GET /repos/acme/access/contents/.github%2Fjit-access.yml", `GET /repos/acme/access/pulls/${revert!.number}/files`]);
  });

  it("a retry finds its own blocked PR, verifies it and merges it pinned, without a second check run", async () => {
    const { fake, repo } = liveRepository();
    let protectedOnce = true;
    const merges: any[] = [];
    fake.onRequest = (method, path, body) => {
      if (method !== "PUT" || !path.endsWith("/merge")) return;
      merges.push(body);
      if (protectedOnce) {
        protectedOnce = false;
        return { status: 405, body: { message: "At least 1 approving review is required by reviewers with write access." } };
      }
    };
    await evaluate(fake);
    expect(readState(statusComment(repo))).toMatchObject({ revert_pending: true });

    fake.reset();
    await evaluate(fake);
    const reverts = revertPulls(repo);
    expect(reverts.map((p) => [p.headRef, p.merged])).toEqual([["jit-access/revert-7", true]]);
    expect(merges.map((m) => m.sha)).toEqual([reverts[0]!.headSha, reverts[0]!.headSha]);
    expect(repo.checkRuns.map((r) => r.headSha)).toEqual([repo.pulls.get(7)!.headSha, reverts[0]!.headSha]); // the record, and one check on the revert
    expect(fake.requests.filter((r) => r.includes("/pulls") || r.includes("/compare/") || r.includes("check-runs"))).toEqual([
      "GET /repos/acme/access/pulls/7",
      "GET /repos/acme/access/pulls/7/files",
      `GET /repos/acme/access/commits/${repo.pulls.get(7)!.headSha}/check-runs`, // the request's record
      "GET /repos/acme/access/pulls",
      `GET /repos/acme/access/compare/main...${reverts[0]!.headSha}`,
      `GET /repos/acme/access/commits/${reverts[0]!.headSha}/check-runs`, // the revert's check: found, not created again
      `PUT /repos/acme/access/pulls/${reverts[0]!.number}/merge`,
      `PATCH /repos/acme/access/check-runs/${RECORD_RUN}`, // the merge recorded, before the comment shows it
    ]);
    expect(readState(statusComment(repo))).toMatchObject({ status: "EXECUTED", revert_pending: false });
  });
});
