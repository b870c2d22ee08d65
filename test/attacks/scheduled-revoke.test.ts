import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * Attack 11 of issue #17: `/jit revoke` on a scheduled grant — approved and merged with a future
 * `start`, not applied yet. The requester changed their mind; nobody must be given the access at
 * the start anyway. Safe: never applied, and the record says REVOKED.
 */
let arena: Arena;
afterEach(() => arena?.stop());

describe("attack 11: /jit revoke on a scheduled grant", () => {
  // The attack: a `/jit revoke` written after the merge but before the grant's start must withdraw it;
  // a command counted only once the grant was applied would let it be applied at its start anyway.
  it("the grant is never applied, and its status is REVOKED", async () => {
    arena = await Arena.start();
    const g = await arena.liveGrant("alice", { minutes: 30, start: new Date(arena.clock.now() + 20 * 60_000) });
    expect(arena.pull(g.number).merged).toBe(true);
    expect(arena.record(g.number)?.status).toBe("SCHEDULED");
    await arena.as("alice").rest.issues.createComment({ ...REF, issue_number: g.number, body: "/jit revoke not needed any more" });
    await arena.deliverAll();

    for (let minute = 0; minute < 60; minute++) {
      await arena.advance(60_000);
      await arena.sweep();
      expect(arena.membershipPuts("alice")).toBe(0);
      expect(arena.isMember("alice")).toBe(false);
    }
    expect(arena.record(g.number)?.status).toBe("REVOKED");
  });
});
