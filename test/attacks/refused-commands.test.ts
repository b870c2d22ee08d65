import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, APP_ID, REF } from "./harness.js";

/**
 * Attack 12 of issue #17: 4,000 refused commands. bob, alice's colleague, may not end her grant
 * (he is neither the requester, nor an approver, nor an admin), yet posts `/jit revoke` on her
 * live grant 4,000 times. Each refused command is remembered in the record (so it gets one
 * reply); the record is a check run's text, which GitHub caps at 65,535 characters (the fake
 * does not: the test checks every text the app wrote). Safe: the record stays under the cap, the
 * grant is not ended, and replies are not repeated on every evaluation.
 */
const COMMANDS = 4000;
const TEXT_LIMIT = 65_535;
let arena: Arena;
afterEach(() => arena?.stop());

describe("attack 12: 4,000 refused /jit revoke commands on a live grant", () => {
  // Defended today: one reply per command (4,000), none repeated; the longest record written is 22,702 characters
  // (the record keeps each answered command's id, some 5.7 characters each: the cap would be reached near 11,500).
  it(`${COMMANDS} refused commands: the record stays under GitHub's 65,535-character limit and replies are not repeated`, async () => {
    arena = await Arena.start();
    const g = await arena.liveGrant("alice", { minutes: 60 });
    await arena.advance(60_000); // commands written before the apply (same second) never count: bob writes after it
    const bob = arena.as("bob");
    for (let i = 0; i < COMMANDS; i++) {
      await bob.rest.issues.createComment({ ...REF, issue_number: g.number, body: `/jit revoke please ${i}` });
      if (i % 500 === 499) await arena.deliverAll();
    }
    await arena.deliverAll();
    const replies = () => arena.pull(g.number).comments.filter((c) => c.appId === APP_ID && c.body.includes("was not carried out")).length;
    const afterCommands = replies();

    // Later evaluations (the sweep, any event): nothing is answered twice.
    await arena.advanceSweeping(3);
    expect(replies()).toBe(afterCommands);
    expect(afterCommands).toBeLessThanOrEqual(COMMANDS);

    expect(arena.isMember("alice")).toBe(true); // the grant is not ended by bob
    expect(arena.record(g.number)?.status).toBe("APPROVED");
    const longest = Math.max(...arena.repo.checkRuns.filter((r) => r.appId === APP_ID).flatMap((r) => r.history.map((h) => h.text.length)));
    expect(longest).toBeLessThanOrEqual(TEXT_LIMIT);
  }, 300_000);
});
