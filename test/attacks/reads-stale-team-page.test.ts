import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";
import { arenaWithGitHubEtags } from "./github-etags.js";

/**
 * reads-2: an owner's veto lost because their team's member list is read stale (commit 4be8349:
 * membership answered from each team's member list, github/team-members.ts).
 *
 * `readTeamMembers` reads one page of 100 and takes "no `rel=\"next\"` link" to mean "this is the
 * whole team". The read is conditional (github/conditional.ts): once kept, a 304 is answered with
 * the kept response, headers included. GitHub's ETag is a digest of the page's body, so a team
 * that had exactly 100 members keeps its first page's body when a 101st member joins (listed
 * after them): GitHub answers 304, the kept response has no `next` link, and the newcomer is
 * "not a member" for as long as that page does not change. Their change request is then not a
 * veto (settleVetoes: not in any approver group), and the next approval merges the request.
 *
 * Before 4be8349 each (team, person) pair was its own lookup (getMembershipForUserInOrg), answered
 * for that person. The requester does not control team sizes; this is a fail-open on a team of
 * exactly one page, for a member who joined since its list was kept (a restart forgets it).
 */
let arena: Arena;
afterEach(() => arena?.stop());

/** @acme/platform (dana and erin, and fillers up to `size` members). */
function platformOf(size: number) {
  return (a: Arena) => {
    for (let i = a.fake.isMember("acme/platform", "dana") ? 2 : 0; i < size; i++) a.fake.addMember("acme/platform", `platform-${String(i).padStart(3, "0")}`);
  };
}

async function scenario(size: number): Promise<number> {
  arena = await arenaWithGitHubEtags({}, platformOf(size));
  const g = await arena.open("alice");
  // bob (write access, in no approver group) approves: the app reads @acme/platform's list to tell.
  await arena.approve(g.number, "bob");
  expect(arena.pull(g.number).merged).toBe(false);
  // The organization adds sam to @acme/platform; then sam, now an owner of the path, objects.
  arena.fake.addMember("acme/platform", "sam");
  await arena.as("sam").rest.pulls.createReview({ ...REF, pull_number: g.number, event: "REQUEST_CHANGES", body: "not for this incident" });
  await arena.deliverAll();
  // dana approves after the veto (GitHub refuses a review of a closed pull request).
  await arena.as("dana").rest.pulls.createReview({ ...REF, pull_number: g.number, event: "APPROVE" }).catch(() => undefined);
  await arena.deliverAll();
  await arena.advanceSweeping(1);
  return g.number;
}

function expectVetoed(number: number): void {
  expect(arena.pull(number).merged).toBe(false);
  expect(arena.membershipPuts("alice")).toBe(0);
  expect(arena.isMember("alice")).toBe(false);
  expect(arena.record(number)?.status).toBe("REJECTED");
}

describe("reads-2: a member who joined a team of exactly 100 objects", () => {
  // The newcomer is the 100th member: the page's body changes, GitHub answers 200, the veto counts.
  it("baseline (99 members before): the change request rejects the request", async () => {
    const number = await scenario(99);
    expectVetoed(number);
  }, 60_000);

  // Today: the list's first page is answered 304 from what was kept (100 logins, no `next` link), sam
  // is taken for a non-member, his change request is ignored and dana's approval merges and applies.
  it("100 members before: the change request still rejects the request", async () => {
    const number = await scenario(100);
    expectVetoed(number);
  }, 60_000);
});
