import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, POLICY, REF } from "./harness.js";
import { arenaWithGitHubEtags } from "./github-etags.js";

/**
 * reads-1: a change request hidden behind a full timeline page (commit 4be8349: a request's reviews
 * come from its timeline).
 *
 * The timeline is read with `gh.paginate` through the conditional reads (github/conditional.ts):
 * every page GitHub answered with an ETag is asked again with If-None-Match, and a 304 is answered
 * with the response kept, headers included. GitHub's ETag is a digest of the page's body; a page
 * that was the last one, and full (100 items), keeps its body when item 101 arrives, so GitHub
 * answers it 304 — and the kept response has no `rel="next"`. The paginator stops there: nothing
 * after the 100th item is read, on any later evaluation, until that page's body changes.
 *
 * The requester controls the count: she posts (or deletes) plain comments until her PR's timeline
 * holds exactly 100 items, then wakes the app once (an edit of the PR's description adds nothing to
 * the timeline). From then on, every review is invisible: an approver's change request (a veto) is
 * never seen. With `merge: manual` the request waits approved; she merges it and the merged
 * request is judged from the same stale page: approved, applied.
 *
 * Before 4be8349 the change request came from the reviews list (its own read, fresh). A
 * `/jit reject` comment is heard from its webhook (handlers/heard-commands.ts), so this is about
 * reviews; the same stale page also hides `review_dismissed` events.
 */
let arena: Arena;
afterEach(() => arena?.stop());

const MANUAL = POLICY.replace("merge: auto", "merge: manual");

async function timelineLength(number: number): Promise<number> {
  return (await arena.as("alice").paginate(arena.as("alice").rest.issues.listEventsForTimeline, { ...REF, issue_number: number, per_page: 100 })).length;
}

/** alice's request, approved by dana and waiting for a person to merge it; its timeline then padded to `length` items. */
async function approvedAndPadded(length: number): Promise<number> {
  const g = await arena.open("alice");
  await arena.approve(g.number);
  expect(arena.check(g.number)?.conclusion).toBe("success");
  const alice = arena.as("alice");
  for (let n = await timelineLength(g.number); n < length - 1; n++) {
    await alice.rest.issues.createComment({ ...REF, issue_number: g.number, body: `note ${n}` });
  }
  expect(await timelineLength(g.number)).toBe(length - 1);
  await arena.deliverAll();
  // One evaluation that reads exactly `length` items: she takes the app's label off (item `length`),
  // the app reads the timeline, then puts the label back (item `length` + 1, on the next page).
  await alice.rest.issues.removeLabel({ ...REF, issue_number: g.number, name: "jit:pending" });
  await arena.deliverAll();
  expect(arena.pull(g.number).labels).toContain("jit:pending");
  return g.number;
}

async function vetoThenMerge(number: number): Promise<void> {
  await arena.as("erin").rest.pulls.createReview({ ...REF, pull_number: number, event: "REQUEST_CHANGES", body: "too broad" });
  await arena.deliverAll();
  // The requester merges what the app shows as approved (GitHub may refuse it: closed, or its check failing).
  await arena.as("alice").rest.pulls.merge({ ...REF, pull_number: number }).catch(() => undefined);
  await arena.deliverAll();
}

function expectVetoed(number: number): void {
  expect(arena.membershipPuts("alice")).toBe(0);
  expect(arena.isMember("alice")).toBe(false);
  expect(arena.record(number)?.status).toBe("REJECTED");
}

describe("reads-1: an approver's change request after the requester filled the timeline's page exactly", () => {
  // The same steps where a full page is read fresh: the veto is seen, and nothing is applied.
  it("baseline (99 items, so the veto lands on the same page): the change request rejects the request", async () => {
    arena = await arenaWithGitHubEtags({ policy: MANUAL });
    const number = await approvedAndPadded(99);
    await vetoThenMerge(number);
    expectVetoed(number);
  }, 60_000);

  // Today: the timeline's first page is answered 304 from what was kept (no `next` link), so erin's
  // review (item 101) is never read; the merged request is judged approved and alice gets the access.
  it("exactly 100 items: the change request still rejects it, and nothing is applied", async () => {
    arena = await arenaWithGitHubEtags({ policy: MANUAL });
    const number = await approvedAndPadded(100);
    await vetoThenMerge(number);
    expectVetoed(number);
  }, 60_000);
});
