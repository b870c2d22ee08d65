import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * Attack 10 of issue #17: someone closes the app's revert PR. The access is already gone when a
 * revert PR is opened; the PR records the end in git (it deletes the grant file). Here branch
 * protection (one approving review) blocks the app's merge, so the revert PR stays open and
 * `jit:revert-blocked`, retried by the sweep; mallory closes it. Safe: the app does not retry
 * that closed PR for ever, and once merging is possible again the end is recorded (a new or
 * reopened revert PR merges).
 */
let arena: Arena;
afterEach(() => arena?.stop());

describe("attack 10: a closed revert PR", () => {
  // Before: every sweep compared main with the closed PR's head, found it unusable, rewrote the record and never
  // opened a new revert PR, so the grant file stayed on main and the record said revert_pending for ever. Now the
  // closed PR is reopened (its branch still holds only the app's deletion) or replaced, at most a few times.
  it("the closed PR is not retried for ever, and the end is still recorded", async () => {
    arena = await Arena.start();
    arena.fake.protect("acme/access", "main", { requiredApprovals: 1 });
    const g = await arena.liveGrant("alice", { minutes: 12 });
    expect(arena.pull(g.number).merged).toBe(true); // dana's approval meets the protection
    await arena.advanceSweeping(13);
    expect(arena.isMember("alice")).toBe(false);
    const reverts = () => [...arena.repo.pulls.values()].filter((p) => p.headRef.startsWith(`jit-access/revert-${g.number}`));
    const [blocked] = reverts();
    expect(blocked).toMatchObject({ state: "open", merged: false });
    expect(arena.record(g.number)).toMatchObject({ revert_pending: true });

    await arena.as("mallory").rest.pulls.update({ ...REF, pull_number: blocked!.number, state: "closed" });
    await arena.deliverAll();
    await arena.advanceSweeping(10); // ten sweeps, merging still blocked
    // Not left closed and retried as it is: reopened (or replaced by one new PR), never a PR a sweep.
    expect(reverts().filter((p) => p.state === "open")).toHaveLength(1);
    expect(reverts().length).toBeLessThanOrEqual(2);

    arena.repo.protection.delete("main"); // merging is possible again
    await arena.advanceSweeping(3);
    expect(arena.onMain(g.path)).toBe(false);
    expect(reverts().some((p) => p.merged)).toBe(true);
    expect(arena.record(g.number)).toMatchObject({ status: "EXECUTED", revert_pending: false });
    expect(arena.isMember("alice")).toBe(false);
  });
});
