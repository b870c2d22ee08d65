import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * cold2-2: a merged request whose verdict is recorded reads only its timeline's first page and its
 * newest two pages (github/snapshot.ts boundedTimeline). A `/jit revoke` by an approver that the
 * app did not hear (its delivery lost, or written while the app was down: HeardCommands is in
 * memory) is then found only in the timeline. The requester puts 100 plain comments before it (the
 * first page) and 200 after it (the newest two pages): every later evaluation misses it, and the
 * grant runs to its end (up to max_duration) although an approver revoked it.
 */
let arena: Arena;
afterEach(() => arena?.stop());

async function comments(n: number, number: number, tag: string): Promise<void> {
  const alice = arena.as("alice");
  for (let i = 0; i < n; i++) await alice.rest.issues.createComment({ ...REF, issue_number: number, body: `${tag} ${i}` });
}

async function revokeUnheard(number: number): Promise<void> {
  await arena.as("dana").rest.issues.createComment({ ...REF, issue_number: number, body: "/jit revoke incident closed, access no longer needed" });
  arena.take((d) => d.name === "issue_comment"); // written while the app was down: never delivered
}

describe("cold2-2: an approver's /jit revoke the app did not hear, buried in the middle of the timeline", () => {
  it("baseline: without the comments around it, the restarted app finds the revoke", async () => {
    arena = await Arena.start();
    const g = await arena.liveGrant("alice", { minutes: 480 });
    expect(arena.isMember("alice")).toBe(true);
    await revokeUnheard(g.number);
    await arena.boot();
    await arena.advanceSweeping(5);
    expect(arena.isMember("alice")).toBe(false);
  }, 120_000);

  // The bounded timeline read skips the pages holding the revoke; its commands come from the comments instead.
  it("100 comments before and 200 after it: the grant is still revoked", async () => {
    arena = await Arena.start();
    const g = await arena.liveGrant("alice", { minutes: 480 });
    expect(arena.isMember("alice")).toBe(true);
    await comments(100, g.number, "before");
    await arena.deliverAll();
    await revokeUnheard(g.number);
    await comments(200, g.number, "after");
    await arena.deliverAll();
    await arena.boot();
    await arena.advanceSweeping(5);
    expect(arena.isMember("alice")).toBe(false);
  }, 120_000);
});
