import { afterEach, describe, expect, it } from "@jest/globals";
import { push } from "../../testkit/people.js";
import { Arena, POLICY, REF } from "./harness.js";

/**
 * cold2-3: a heard command is kept "until a decision had to count it" — or until 24 h pass without
 * another command heard on that request (handlers/heard-commands.ts KEEP_MS, expire()). A veto
 * written while the request is invalid is counted by no decision; the requester edits it away (the
 * timeline ignores edited comments), waits a day (the policy's pending_timeout is 72h), fixes the
 * file, and the next approval merges and applies it. The cold-2 fix only moved the hole by 24 h.
 */
let arena: Arena;
afterEach(() => arena?.stop());

const LONG_TIMEOUT = POLICY.replace("pending_timeout: 24h", "pending_timeout: 72h");

describe("cold2-3: a veto heard while the request was invalid, edited away, then a day passes", () => {
  // Before: the heard veto expired after 24 h in memory and the edited timeline no longer showed it. Now an owner's
  // veto rejects the request at once, invalid or not.
  it("the fixed request is still rejected a day later", async () => {
    arena = await Arena.start({ policy: LONG_TIMEOUT });
    const g = await arena.open("alice", { minutes: 600 }); // 10h > 8h: invalid
    const { data } = await arena.as("erin").rest.issues.createComment({ ...REF, issue_number: g.number, body: "/jit reject far too broad, no" });
    await arena.deliverAll(); // heard, evaluated (invalid): kept
    await arena.advance(2_000);
    await arena.as("alice").rest.issues.updateComment({ ...REF, comment_id: data.id, body: "looks fine once the duration is fixed" });
    await arena.deliverAll();
    await arena.advance(25 * 3_600_000);
    // any command heard anywhere expires the stale entry first (her own reject counts for nothing)
    await arena.as("alice").rest.issues.createComment({ ...REF, issue_number: g.number, body: "/jit reject never mind" });
    await arena.deliverAll();
    await push(arena.as("alice"), REF, { branch: g.branch, path: g.path, content: arena.grantYaml("alice", { minutes: 60 }) });
    await arena.deliverAll();
    await arena.approve(g.number).catch(() => undefined);
    await arena.advanceSweeping(1);

    expect(arena.pull(g.number).merged).toBe(false);
    expect(arena.isMember("alice")).toBe(false);
  }, 120_000);

  // Before: heard commands lived only in memory, so a deploy after the (uncounted) veto forgot it. Now it is counted at once.
  it("the fixed request is still rejected after a restart", async () => {
    arena = await Arena.start();
    const g = await arena.open("alice", { minutes: 600 });
    const { data } = await arena.as("erin").rest.issues.createComment({ ...REF, issue_number: g.number, body: "/jit reject far too broad, no" });
    await arena.deliverAll();
    await arena.advance(2_000);
    await arena.as("alice").rest.issues.updateComment({ ...REF, comment_id: data.id, body: "looks fine once the duration is fixed" });
    await arena.deliverAll();
    await arena.boot(); // a deploy
    await push(arena.as("alice"), REF, { branch: g.branch, path: g.path, content: arena.grantYaml("alice", { minutes: 60 }) });
    await arena.deliverAll();
    await arena.approve(g.number).catch(() => undefined);
    await arena.advanceSweeping(1);

    expect(arena.pull(g.number).merged).toBe(false);
    expect(arena.isMember("alice")).toBe(false);
  }, 120_000);
});
