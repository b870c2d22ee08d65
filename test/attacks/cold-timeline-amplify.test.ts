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
  it(`${COMMENTS} plain comments: each comment is read once, and a label toggle then costs the app at most 15 requests`, async () => {
    arena = await Arena.start();
    const g = await arena.liveGrant("alice", { minutes: 60 });
    const alice = arena.as("alice");
    // GitHub's timestamps have whole seconds, and its pace for content creation is well under 10 a second.
    for (let i = 0; i < COMMENTS; i++) {
      await alice.rest.issues.createComment({ ...REF, issue_number: g.number, body: `note ${i}` });
      if (i % 10 === 9) arena.clock.set(arena.clock.now() + 1_000);
    }
    await arena.deliverAll();
    expect(arena.pull(g.number).labels).toContain("jit:approved");

    const toggle = async () => {
      const before = arena.fake.requests.length;
      await alice.rest.issues.removeLabel({ ...REF, issue_number: g.number, name: "jit:approved" });
      await arena.deliverAll();
      expect(arena.pull(g.number).labels).toContain("jit:approved"); // restored
      return arena.fake.requests.length - before - 1;
    };
    // The first evaluation after the flood reads each comment once (for commands the skipped
    // timeline pages held); every later one reads only what changed since.
    expect(await toggle()).toBeLessThanOrEqual(COMMENTS / 100 + 15);
    expect(await toggle()).toBeLessThanOrEqual(15);
    expect(await toggle()).toBeLessThanOrEqual(15);
  }, 120_000);
});
