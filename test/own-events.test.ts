import { afterEach, describe, expect, it } from "@jest/globals";
import { alreadySeen, noteMergeSeen, noteOwnRevert, noteRecordedEnd, resetOwnEvents, type PullRequestEventFacts } from "../src/github/own-events.js";
import { Arena } from "./attacks/harness.js";

/**
 * Webhooks of the app's own doing whose outcome it has already seen are not evaluated again
 * (src/github/own-events.ts); a turn that stops half way leaves them to be evaluated as before.
 */
const ref = { owner: "acme", repo: "access" };
const closed = (o: Partial<PullRequestEventFacts> = {}): PullRequestEventFacts => ({ ...ref, number: 7, action: "closed", merged: true, headSha: "h1", authorId: 99, mergedById: 99, ...o });

describe("which webhooks are the app's own, already seen", () => {
  afterEach(() => resetOwnEvents());

  it("the merge of a request whose merged evaluation the turn finished, at that head only", () => {
    expect(alreadySeen(closed())).toBe(false);
    noteMergeSeen({ ...ref, number: 7 }, "h1");
    expect(alreadySeen(closed())).toBe(true);
    expect(alreadySeen(closed({ headSha: "h2" }))).toBe(false);
    expect(alreadySeen(closed({ number: 8 }))).toBe(false);
    expect(alreadySeen(closed({ action: "synchronize" }))).toBe(false);
    expect(alreadySeen(closed({ merged: false }))).toBe(false);
  });

  it("a revert PR the app opened: its opening; its merge only by its author (the app) once the end is recorded", () => {
    noteOwnRevert({ ...ref, number: 9 }, "h1");
    expect(alreadySeen(closed({ number: 9, action: "opened", merged: false }))).toBe(true);
    expect(alreadySeen(closed({ number: 9, action: "opened", merged: false, headSha: "pushed" }))).toBe(false); // someone pushed before it opened
    expect(alreadySeen(closed({ number: 9 }))).toBe(false); // the end is not in the record yet
    noteRecordedEnd({ ...ref, repoId: 1, number: 7 }, 9);
    expect(alreadySeen(closed({ number: 9 }))).toBe(true);
    expect(alreadySeen(closed({ number: 9, mergedById: 5 }))).toBe(false); // a person merged it
    expect(alreadySeen(closed({ number: 9, action: "reopened", merged: false }))).toBe(false);
    expect(alreadySeen(closed({ number: 10, action: "opened", merged: false }))).toBe(false); // not the app's
  });
});

describe("the app's own webhooks, end to end", () => {
  let arena: Arena;
  afterEach(() => arena?.stop());

  /** Requests for pull request `number` itself after its merge (each evaluation reads it first). */
  const readsAfterMerge = (number: number) => {
    const requests = arena.fake.requests;
    const merge = requests.indexOf(`PUT /repos/acme/access/pulls/${number}/merge`);
    expect(merge).toBeGreaterThanOrEqual(0);
    return requests.slice(merge).filter((r) => r === `GET /repos/acme/access/pulls/${number}`).length;
  };

  it("the merge's webhook is not evaluated again after the turn that saw the merged request", async () => {
    arena = await Arena.start();
    const g = await arena.open("alice");
    arena.fake.reset();
    await arena.approve(g.number);
    expect(arena.isMember("alice")).toBe(true);
    expect(readsAfterMerge(g.number)).toBe(1); // the turn's own look at the merged request, and no other
  });

  it("a turn that stops after the merge leaves the merge's webhook to evaluate and apply it", async () => {
    arena = await Arena.start();
    const g = await arena.open("alice");
    // The turn's look at the merged request fails (GitHub unreachable for that one read).
    let merged = false;
    let failed = false;
    arena.fake.onRequest((r) => {
      if (r.method === "PUT" && r.path.endsWith(`/pulls/${g.number}/merge`)) merged = true;
      else if (merged && !failed && r.method === "GET" && r.path === `/repos/acme/access/pulls/${g.number}`) {
        failed = true;
        throw new TypeError("fetch failed");
      }
    });
    arena.fake.reset();
    await arena.approve(g.number);
    expect(failed).toBe(true);
    expect(arena.pull(g.number).merged).toBe(true);
    expect(arena.isMember("alice")).toBe(true); // applied by the merge webhook's evaluation
    expect(readsAfterMerge(g.number)).toBeGreaterThanOrEqual(2);
  });

  it("the revert PR's own webhooks are not evaluated; the grant ends all the same", async () => {
    arena = await Arena.start();
    const g = await arena.liveGrant("alice", { minutes: 30 });
    arena.fake.reset();
    await arena.advance(31 * 60_000); // its timer ends it (the sweep, which looks at every pull request updated since it last ran, is not run here)
    expect(arena.isMember("alice")).toBe(false);
    expect(arena.record(g.number)).toMatchObject({ status: "EXECUTED", revert_pending: false });
    const revert = arena.record(g.number)!.revert_pr!;
    expect(arena.pull(revert).merged).toBe(true);
    // Only the revert's own merge reads it (the merge verifies it first); its opened and closed webhooks do not.
    const reads = arena.fake.requests.filter((r) => r === `GET /repos/acme/access/pulls/${revert}/files`);
    expect(reads).toEqual([]);
  });
});
