import { beforeEach, describe, expect, it } from "@jest/globals";
import { blobSha, FakeGitHub, type BranchProtection, type FakeRepo } from "../testkit/fake-github.js";
import { openRequest } from "../testkit/people.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { recordKey } from "../src/github/record.js";
import { evaluatePullRequest } from "../src/handlers/evaluate.js";
import { embedState, readState, type CommentState } from "../src/lifecycle/codec.js";
import type { Provider } from "../src/providers/types.js";
import { CODEOWNERS, grantYaml, POLICY } from "./helpers/fixtures.js";

/**
 * The recipe of docs/operations/install.md ("Branch protection"), applied to the in-memory
 * GitHub's protection of `main`: the `jit-access` check and a review required, the App the only
 * actor that bypasses reviews, merges restricted to the App (the strict variant). With it, the App
 * merges its revert PRs and approved requests; without it, every expiry ends `jit:revert-blocked`;
 * a person with write access cannot merge past it.
 */
const APP_ID = 1;
const APP = "jit-access[bot]"; // the App as an actor: a ruleset's bypass "integration", classic protection's app
const REPO = "acme/access";
const ref = { owner: "acme", repo: "access" };
const PATH = "grants/prod-admins/alice-1.yaml";
const CONTENT = grantYaml({ resource: "prod-admins", role: "member", duration: "2h" });
const AFTER_EXPIRY = new Date("2026-11-29T15:00:01Z");

/** What the recipe sets on the default branch (a ruleset or classic protection, the same rules). */
const RECIPE: BranchProtection = { requiredChecks: ["jit-access"], requiredApprovals: 1, bypassReviews: [APP], restrictPushesTo: [APP] };
/** Reviews required, nothing else: what most organizations start from. */
const REVIEWS_ONLY: BranchProtection = { requiredApprovals: 1 };

beforeEach(() => resetLiveGrantCaches());

const memory = (): Provider => ({ units: (t) => [`team:${t.requester}`], held: async () => [], apply: async () => {}, revoke: async () => {}, describe: () => "in-memory access" });

function evaluate(fake: FakeGitHub, number: number, now: Date) {
  const log = { info() {}, warn() {}, error() {} };
  return evaluatePullRequest(fake.client(), { ...ref, number }, { appId: APP_ID, now: () => now, providers: () => memory() }, log);
}

/** A request the App merged and applied, recorded as the App leaves it, now past its end. */
async function expiredGrant(protection: BranchProtection): Promise<{ fake: FakeGitHub; repo: FakeRepo; number: number }> {
  let now = new Date("2026-11-29T12:00:00Z");
  const fake = new FakeGitHub({ appId: APP_ID, now: () => now });
  const repo = fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": CODEOWNERS }, { writers: ["alice", "sam"] });
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
  await app.rest.checks.create({ ...ref, name: "jit-access", external_id: recordKey({ repoId: repo.id, number }), head_sha: head, status: "completed", conclusion: "success", output: { title: "Approved", summary: "approved", text: body } });
  await app.rest.issues.createComment({ ...ref, issue_number: number, body });
  await app.rest.issues.addLabels({ ...ref, issue_number: number, labels: ["jit:approved"] });
  fake.protect(REPO, "main", protection);
  now = AFTER_EXPIRY;
  return { fake, repo, number };
}

const reverts = (repo: FakeRepo, number: number) => [...repo.pulls.values()].filter((p) => p.headRef.startsWith(`jit-access/revert-${number}`));
const onMain = (repo: FakeRepo, path: string) => repo.git.resolve("main")!.tree.has(path);

describe("the branch-protection recipe: the App, and nobody else, merges into the default branch", () => {
  it("without it, reviews required: the expiry's revert PR stays open and the request ends jit:revert-blocked", async () => {
    const { fake, repo, number } = await expiredGrant(REVIEWS_ONLY);
    await evaluate(fake, number, AFTER_EXPIRY);
    expect(reverts(repo, number).map((p) => [p.state, p.merged])).toEqual([["open", false]]);
    expect(repo.pulls.get(number)!.labels).toContain("jit:revert-blocked");
    expect(onMain(repo, PATH)).toBe(true);
  });

  it("with it: the App merges its revert PR without a review; the grant file leaves main", async () => {
    const { fake, repo, number } = await expiredGrant(RECIPE);
    await evaluate(fake, number, AFTER_EXPIRY);
    expect(reverts(repo, number).map((p) => [p.state, p.merged, p.reviews.length])).toEqual([["closed", true, 0]]);
    expect(repo.pulls.get(number)!.labels).not.toContain("jit:revert-blocked");
    expect(readState(repo.pulls.get(number)!.comments.find((c) => c.appId === APP_ID)!.body)).toMatchObject({ status: "EXECUTED", revert_pending: false });
    expect(onMain(repo, PATH)).toBe(false);
  });

  it("with it: the App merges an approved request; a person with write access cannot merge one, approved or not", async () => {
    const now = new Date("2026-11-29T12:00:00Z");
    const fake = new FakeGitHub({ appId: APP_ID, now: () => now });
    const repo = fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": CODEOWNERS }, { writers: ["alice", "sam", "pat"] });
    fake.addMember("acme/engineering", "alice");
    fake.addMember("acme/platform", "pat");
    fake.protect(REPO, "main", RECIPE);
    const number = (await openRequest(fake.as("alice"), ref, { branch: "request-alice", path: PATH, content: CONTENT }))!;
    await fake.as("pat").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });

    // pat (write access, even the approver) cannot merge it: only the App may.
    await expect(fake.as("pat").rest.pulls.merge({ ...ref, pull_number: number, merge_method: "squash" })).rejects.toMatchObject({ status: 405, message: expect.stringContaining("You're not authorized to push to this branch") });
    expect(repo.pulls.get(number)!.merged).toBe(false);

    await evaluate(fake, number, now);
    expect(repo.pulls.get(number)).toMatchObject({ merged: true, state: "closed" });
    expect(repo.pulls.get(number)!.events.find((e) => e.event === "merged")!.actor).toBe(APP);
  });
});
