import { afterEach, describe, expect, it } from "@jest/globals";
import { push } from "../../testkit/people.js";
import { Arena, REF } from "./harness.js";

/**
 * cold-2: a heard `/jit reject` is forgotten once any evaluation has seen it (HeardCommands.settled
 * in handlers/evaluate.ts finishEvaluation), even one that decided nothing about it: judgeRequest
 * returns "invalid" before it reads commands, so the veto goes into no record. The requester then
 * edits the approver's comment (the timeline ignores edited comments: github/snapshot.ts
 * loadTimeline), fixes her grant file, and another approver's approval merges and applies it.
 */
let arena: Arena;
afterEach(() => arena?.stop());

describe("cold-2: a veto written while the request is invalid, then edited away", () => {
  it("baseline: the untouched veto still rejects the fixed request", async () => {
    arena = await Arena.start();
    const g = await arena.open("alice", { minutes: 600 }); // 10h > 8h: invalid
    expect(arena.check(g.number)?.conclusion).toBe("failure");
    await arena.as("erin").rest.issues.createComment({ ...REF, issue_number: g.number, body: "/jit reject far too broad, no" });
    await arena.deliverAll();
    await push(arena.as("alice"), REF, { branch: g.branch, path: g.path, content: arena.grantYaml("alice", { minutes: 60 }) });
    await arena.deliverAll();
    await arena.approve(g.number).catch(() => undefined); // closed by the veto: GitHub refuses the review
    expect(arena.pull(g.number).merged).toBe(false);
    expect(arena.record(g.number)?.status).toBe("REJECTED");
    expect(arena.isMember("alice")).toBe(false);
  });

  it("edited by the requester after the app saw it: the fixed request stays rejected", async () => {
    arena = await Arena.start();
    const g = await arena.open("alice", { minutes: 600 });
    const { data } = await arena.as("erin").rest.issues.createComment({ ...REF, issue_number: g.number, body: "/jit reject far too broad, no" });
    await arena.deliverAll(); // heard, evaluated (invalid), forgotten
    await arena.advance(2_000);
    await arena.as("alice").rest.issues.updateComment({ ...REF, comment_id: data.id, body: "looks fine once the duration is fixed" });
    await push(arena.as("alice"), REF, { branch: g.branch, path: g.path, content: arena.grantYaml("alice", { minutes: 60 }) });
    await arena.deliverAll();
    await arena.approve(g.number).catch(() => undefined); // closed by the veto: GitHub refuses the review
    await arena.advanceSweeping(1);

    expect(arena.pull(g.number).merged).toBe(false);
    expect(arena.membershipPuts("alice")).toBe(0);
    expect(arena.isMember("alice")).toBe(false);
  });
});
