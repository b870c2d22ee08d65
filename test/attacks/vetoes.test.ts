import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * Attack 5 of issue #17: the requester disarms a veto. erin, an approver, writes `/jit reject too
 * broad`; before the app has processed it, alice (anyone with write access may edit or delete any
 * comment) edits it by one character so it no longer reads as a command — or deletes it. Then dana
 * approves. Safe: the request stays rejected; it is never merged nor applied.
 */
let arena: Arena;
afterEach(() => arena?.stop());

/** erin's veto on the request, its webhook held back (the app has not seen it yet); the comment's id. */
async function veto(number: number): Promise<number> {
  const { data } = await arena.as("erin").rest.issues.createComment({ ...REF, issue_number: number, body: "/jit reject too broad" });
  return data.id;
}

function expectRejected(number: number): void {
  expect(arena.pull(number)).toMatchObject({ merged: false, state: "closed" });
  expect(arena.record(number)?.status).toBe("REJECTED");
  expect(arena.membershipPuts("alice")).toBe(0);
  expect(arena.isMember("alice")).toBe(false);
}

describe("attack 5: the requester edits or deletes an approver's veto before the app processes it", () => {
  it("baseline: an untouched veto rejects the request, and a later approval changes nothing", async () => {
    arena = await Arena.start();
    const g = await arena.open("alice");
    await veto(g.number);
    await arena.deliverAll();
    await arena.as("dana").rest.pulls.createReview({ ...REF, pull_number: g.number, event: "APPROVE" }).catch(() => undefined); // closed: GitHub may refuse
    await arena.deliverAll();
    expectRejected(g.number);
  });

  // Today: the app reads the comment as it is now ("./jit reject too broad": no command), so the veto never counts and
  // dana's approval merges and applies the request.
  it("edited by one character: the request stays rejected, never merged or applied", async () => {
    arena = await Arena.start();
    const g = await arena.open("alice");
    const id = await veto(g.number);
    await arena.as("alice").rest.issues.updateComment({ ...REF, comment_id: id, body: "./jit reject too broad" });
    await arena.approve(g.number); // the veto's webhook, alice's edit's and dana's review, in GitHub's order
    await arena.advanceSweeping(2);
    expectRejected(g.number);
  });

  // Today: the deleted comment is gone from every list the app reads, so the veto never counts.
  it("deleted: the request stays rejected, never merged or applied", async () => {
    arena = await Arena.start();
    const g = await arena.open("alice");
    const id = await veto(g.number);
    await arena.as("alice").rest.issues.deleteComment({ ...REF, comment_id: id });
    await arena.approve(g.number);
    await arena.advanceSweeping(2);
    expectRejected(g.number);
  });
});
