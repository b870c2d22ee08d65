import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * cold-8: a `/jit revoke` on a scheduled grant, written in the seconds before its start, is lost.
 * The scheduler reads the grant's snapshot `leadMs` (10 s) before its due moment (start − 2 s),
 * then waits and applies from that snapshot; the command's own evaluation is queued behind it
 * (KeyedQueue) and then finds a live grant, whose decideLive counts only commands written after
 * `applied_at` (lifecycle/live.ts, revoke-commands.ts `since`). Neither evaluation ends it: the
 * grant runs its whole window although an approver withdrew it before it started.
 */
let arena: Arena;
afterEach(() => arena?.stop());

describe("cold-8: /jit revoke written 8 seconds before a scheduled start", () => {
  it("the grant is withdrawn (or ended at once), not applied for its whole window", async () => {
    arena = await Arena.start();
    const start = new Date(arena.clock.now() + 20 * 60_000);
    const g = await arena.liveGrant("alice", { minutes: 60, start });
    expect(arena.record(g.number)?.status).toBe("SCHEDULED");
    await arena.advance(start.getTime() - arena.clock.now() - 8_000);
    await arena.as("dana").rest.issues.createComment({ ...REF, issue_number: g.number, body: "/jit revoke no longer needed" });
    await arena.deliverAll();
    await arena.advanceSweeping(3);

    expect(arena.isMember("alice")).toBe(false);
    expect(["REVOKED", "EXECUTED"]).toContain(arena.record(g.number)?.status);
  });
});
