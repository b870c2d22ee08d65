import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * The merge call pins a pull request's head, not its base. A requester who retargets the app's
 * revert PR to a branch of her own, between its opening and its merge, had GitHub merge the
 * deletion there, while the request's record said the end's revert was merged (found by the cold
 * attack on the app's own webhooks). The app now reads the PR once merged (its base can no longer
 * change then): merged elsewhere, it is refused, and a new revert PR is merged into the default branch.
 */
let arena: Arena;
afterEach(() => arena?.stop());

describe("a revert PR retargeted before its merge", () => {
  it("is not taken as the end's revert: the grant file leaves the default branch through another one", async () => {
    arena = await Arena.start();
    const { data: main } = await arena.as("mallory").rest.git.getRef({ ...REF, ref: "heads/main" });
    await arena.as("mallory").rest.git.createRef({ ...REF, ref: "refs/heads/mallory-base", sha: main.object.sha });
    const g = await arena.liveGrant("alice", { minutes: 30 });
    let retargeted: number | undefined;
    arena.fake.onRequest((r) => {
      // The revert PR is open and about to get its check, then its merge: mallory retargets it now.
      if (retargeted !== undefined || r.method !== "POST" || r.path !== "/repos/acme/access/check-runs") return;
      const revert = [...arena.repo.pulls.values()].find((p) => p.state === "open" && p.number !== g.number);
      if (revert) {
        revert.baseRef = "mallory-base";
        retargeted = revert.number;
      }
    });
    await arena.advanceSweeping(40);
    expect(retargeted).toBeDefined();
    expect(arena.pull(retargeted!).merged).toBe(true); // GitHub merged it into mallory-base
    expect(arena.isMember("alice")).toBe(false);
    expect(arena.onMain(g.path)).toBe(false);
    const record = arena.record(g.number)!;
    expect(record).toMatchObject({ status: "EXECUTED", revert_pending: false });
    expect(record.revert_pr).not.toBe(retargeted);
    expect(arena.pull(record.revert_pr!)).toMatchObject({ merged: true, baseRef: "main" });
  }, 120_000);
});
