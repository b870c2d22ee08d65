import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * cold-5: every evaluation of a live (not yet due) grant reads its PR's whole timeline
 * (github/snapshot.ts loadTimeline, paginated without a bound). The requester fills her own PR
 * with plain comments (no command: the app is not even woken by them), then each `jit:` label she
 * removes (one request of hers) makes the app read every page again — and put the label back. The
 * installation's rate limit is shared with every due revoke, so a few hundred such toggles an hour
 * starve the revokes of everyone in the installation (her own grant's included).
 */
let arena: Arena;
afterEach(() => arena?.stop());

const COMMENTS = 3000;

describe("cold-5: one label removal on a live grant whose PR carries many comments", () => {
  // A merged request whose verdict is recorded reads the timeline's first page and its newest pages only.
  it(`${COMMENTS} plain comments: a label toggle costs the app at most 30 requests`, async () => {
    arena = await Arena.start();
    const g = await arena.liveGrant("alice", { minutes: 60 });
    const alice = arena.as("alice");
    for (let i = 0; i < COMMENTS; i++) await alice.rest.issues.createComment({ ...REF, issue_number: g.number, body: `note ${i}` });
    await arena.deliverAll();
    expect(arena.pull(g.number).labels).toContain("jit:approved");

    const before = arena.fake.requests.length;
    await alice.rest.issues.removeLabel({ ...REF, issue_number: g.number, name: "jit:approved" });
    await arena.deliverAll();
    const cost = arena.fake.requests.length - before - 1;
    expect(arena.pull(g.number).labels).toContain("jit:approved"); // restored
    expect(cost).toBeLessThanOrEqual(30);
  }, 120_000);
});
