import { beforeEach, describe, expect, it } from "@jest/globals";
import { FakeGitHub, type FakePull, type FakeRepo } from "../testkit/fake-github.js";
import { accessRepository, ref, seedLiveGrant } from "../testkit/live-grants.js";
import { push } from "../testkit/people.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { MAX_REVERT_CLOSES } from "../src/github/revert.js";
import { evaluatePullRequest } from "../src/handlers/evaluate.js";
import { readState } from "../src/lifecycle/codec.js";
import type { Provider } from "../src/providers/types.js";

/**
 * "Sweeps that never end": a revert PR someone closed unmerged used to be found again on every
 * evaluation and reported "not open", on the same branch, for ever. Now the app reopens it when its
 * branch still holds the verified deletion, opens a replacement on the next name when it does not,
 * and after MAX_REVERT_CLOSES closes stops (blocked, labelled) instead of trying again.
 * Run on the in-memory GitHub; people act through its REST routes.
 */
const APP_ID = 1;
const EXPIRES = new Date("2026-11-29T15:00:00Z");
const AFTER = new Date("2026-11-29T15:00:01Z");
const memory = (): Provider => ({ units: (t) => [`team:${t.requester}`], held: async () => [], apply: async () => {}, revoke: async () => {}, describe: () => "in-memory access" });

beforeEach(() => resetLiveGrantCaches());

interface World {
  fake: FakeGitHub;
  repo: FakeRepo;
  number: number;
  branch: string;
}

/** alice's live grant, past its end; main requires an approval, so the app's revert PR stays open. */
async function expired(): Promise<World> {
  let now = new Date("2026-11-29T12:00:00Z");
  const fake = new FakeGitHub({ appId: APP_ID, now: () => now });
  accessRepository(fake, ["alice", "sam"]);
  const number = await seedLiveGrant(fake, "alice", { appliedAt: new Date("2026-11-29T13:00:00Z"), expiresAt: EXPIRES });
  fake.protect("acme/access", "main", { requiredApprovals: 1 });
  now = AFTER;
  return { fake, repo: fake.repo("acme", "access")!, number, branch: `jit-access/revert-${number}` };
}

const evaluate = (w: World) => evaluatePullRequest(w.fake.client(), { ...ref, number: w.number }, { appId: APP_ID, now: () => AFTER, providers: () => memory() }, { info() {}, warn() {}, error() {} });
const reverts = (w: World): FakePull[] => [...w.repo.pulls.values()].filter((p) => p.headRef.startsWith(w.branch));
const closeAs = (w: World, pr: FakePull) => w.fake.as("sam").rest.pulls.update({ ...ref, pull_number: pr.number, state: "closed" });
const grantOnMain = (w: World) => w.repo.git.resolve("main")!.tree.has("grants/prod-admins/alice.yaml");
const status = (w: World) => readState(w.repo.pulls.get(w.number)!.comments.find((c) => c.appId === APP_ID)!.body);
/** The app's writes to pull requests: opening, reopening (PATCH) and merging. */
const pullWrites = (fake: FakeGitHub) => fake.requests.filter((r) => /^(POST|PATCH|PUT) \/repos\/acme\/access\/pulls/.test(r));

describe("a revert PR closed without merging", () => {
  it("is reopened by the next evaluation when its branch still holds the app's deletion, and merged pinned to it", async () => {
    const w = await expired();
    await evaluate(w);
    const [first] = reverts(w);
    expect(first).toMatchObject({ state: "open", merged: false, labels: ["jit:revert-blocked"] });
    const verified = first!.headSha;
    await closeAs(w, first!);
    w.repo.protection.delete("main"); // someone lifts the rule; the closed PR would otherwise stay closed for ever

    w.fake.reset();
    await evaluate(w);
    expect(reverts(w).map((p) => [p.number, p.headRef, p.merged, p.headSha])).toEqual([[first!.number, w.branch, true, verified]]);
    expect(pullWrites(w.fake)).toEqual([`PATCH /repos/acme/access/pulls/${first!.number}`, `PUT /repos/acme/access/pulls/${first!.number}/merge`]);
    expect(grantOnMain(w)).toBe(false);
    expect(status(w)).toMatchObject({ status: "EXECUTED", revert_pr: first!.number, revert_pending: false });
  });

  it("is replaced on the next branch name when its branch moved after it was closed (the push is never merged)", async () => {
    const w = await expired();
    await evaluate(w);
    const [first] = reverts(w);
    await closeAs(w, first!);
    await push(w.fake.as("sam"), ref, { branch: w.branch, path: ".github/CODEOWNERS", content: "* @sam\n" });
    w.repo.protection.delete("main");

    await evaluate(w);
    expect(reverts(w).map((p) => [p.headRef, p.state, p.merged])).toEqual([[w.branch, "closed", false], [`${w.branch}-2`, "closed", true]]);
    expect(w.repo.git.blobs.get(w.repo.git.resolve("main")!.tree.get(".github/CODEOWNERS")!)).toBe("* @acme/platform\n");
    expect(grantOnMain(w)).toBe(false);
    expect(status(w)).toMatchObject({ revert_pr: reverts(w)[1]!.number, revert_pending: false });
  });

  it(`after ${MAX_REVERT_CLOSES} closes is neither reopened nor replaced again: reported blocked, labelled, and later evaluations open or reopen nothing`, async () => {
    const w = await expired();
    await evaluate(w);
    for (let close = 1; close <= MAX_REVERT_CLOSES; close++) {
      const open = reverts(w).filter((p) => p.state === "open");
      expect(open).toHaveLength(1); // each evaluation left exactly one attempt open
      await closeAs(w, open[0]!);
      w.fake.reset();
      await evaluate(w);
      if (close < MAX_REVERT_CLOSES) expect(pullWrites(w.fake)).toEqual([expect.stringMatching(/^PATCH /), expect.stringMatching(/\/merge$/)]); // reopened, merge tried (blocked)
    }
    expect(pullWrites(w.fake)).toEqual([]); // the fifth close: nothing opened, reopened or merged
    expect(reverts(w).map((p) => [p.state, p.merged])).toEqual([["closed", false]]);
    expect(reverts(w)[0]!.labels).toContain("jit:revert-blocked");
    expect(w.repo.pulls.get(w.number)!.labels).toContain("jit:revert-blocked");
    const comment = w.repo.pulls.get(w.number)!.comments.find((c) => c.appId === APP_ID)!.body;
    expect(comment).toContain(`closed without merging ${MAX_REVERT_CLOSES} times, so jit-access no longer reopens or replaces it`);
    expect(status(w)).toMatchObject({ revert_pending: true });

    // Later evaluations (the sweep's) open, reopen, label and merge nothing.
    w.fake.reset();
    await evaluate(w);
    expect(pullWrites(w.fake)).toEqual([]);
    expect(w.fake.requests.filter((r) => r.includes("/labels"))).toEqual([]);
  });
});
