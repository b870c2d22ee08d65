import { describe, expect, it } from "@jest/globals";
import { conditionalReads } from "../src/github/conditional.js";
import { evaluatePullRequest } from "../src/handlers/evaluate.js";
import { providerFactory } from "../src/providers/registry.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref } from "../testkit/live-grants.js";
import { deleteThroughPullRequest, openRequest, push } from "../testkit/people.js";
import { resetOwnEvents } from "../src/github/own-events.js";
import { schedulerWorld } from "./helpers/scheduler-world.js";

/**
 * A merged deletion names the requests that added its files, from git history (github/grant-origin.ts).
 * Evaluated again while the default branch has not moved (the app's revert PR: its `opened` and
 * `closed` webhooks), that history is not read again; once the branch moves, it is. The app's own
 * revert PR does not name the request whose end (revert merged) this process recorded
 * (github/own-events.ts, noteRecordedEnd): that request's record is final.
 */
const quiet = { info() {}, warn() {}, error() {} };
const content = `requester: alice\nresource: prod-admins\nrole: member\nduration: 2h\nreason: "Investigate INC-4211 on the primary database"\n`;
const history = (requests: readonly string[]) => requests.filter((r) => r === "GET /repos/acme/access/commits" || /\/commits\/[0-9a-f]{40}\/pulls$/.test(r));

describe("a merged deletion's origins, by commit of the default branch", () => {
  it("are read once while the branch stays, and again once it moves", async () => {
    const fake = new FakeGitHub(1);
    accessRepository(fake, ["alice", "bob"]);
    const path = "grants/prod-admins/alice.yaml";
    const request = (await openRequest(fake.as("alice"), ref, { branch: "request-alice", path, content }))!;
    await fake.as("alice").rest.pulls.merge({ ...ref, pull_number: request, merge_method: "squash" });
    const deletion = (await deleteThroughPullRequest(fake.as("bob"), ref, { branch: "remove-alice", path }))!;
    const gh = conditionalReads(fake.client(), "test");
    const deps = { appId: 1, now: () => new Date(), providers: providerFactory({}) };
    const evaluate = async () => {
      fake.reset();
      const { affected } = await evaluatePullRequest(gh, { ...ref, number: deletion }, deps, quiet);
      return { affected: affected.map((a) => a.number), history: history(fake.requests) };
    };

    const first = await evaluate();
    expect(first.affected).toEqual([request]);
    expect(first.history.length).toBeGreaterThan(0);

    const again = await evaluate(); // the same commit of main: the same answer, no history read
    expect(again).toEqual({ affected: [request], history: [] });

    await push(fake.as("bob"), ref, { branch: "main", path: "README.md", content: "moved\n" });
    const moved = await evaluate(); // main moved: read again
    expect(moved.affected).toEqual([request]);
    expect(moved.history).toEqual(first.history);
  });
});

describe("the app's own revert PR, merged and recorded by this process", () => {
  it("does not queue its request again; another process (a restart, a replica) still does", async () => {
    const { clock, fake, evaluate } = schedulerWorld();
    const deps = { appId: 1, now: () => clock.now(), providers: providerFactory({}) };
    const path = "grants/prod-admins/alice.yaml";
    const request = (await openRequest(fake.as("alice"), ref, { branch: "request-alice", path, content }))!;
    await evaluate(request);
    await fake.as("carol").rest.pulls.createReview({ ...ref, pull_number: request, event: "APPROVE" });
    await evaluate(request); // merged and applied in one turn
    expect(fake.isMember("acme/prod-admins", "alice")).toBe(true);
    clock.set(new Date("2026-11-29T14:01:00Z")); // its 2 h are over
    await evaluate(request); // revoked; the revert PR opened and merged
    expect(fake.isMember("acme/prod-admins", "alice")).toBe(false);
    const revert = [...fake.repo("acme", "access")!.pulls.values()].find((p) => p.number !== request)!;
    expect(revert.merged).toBe(true);

    const gh = conditionalReads(fake.client(), "test");
    const named = async (number: number) => (await evaluatePullRequest(gh, { ...ref, number }, deps, quiet)).affected.map((a) => a.number);
    expect(await named(revert.number)).toEqual([]);
    // Another process (a restart, another replica) has not seen that end recorded: it names the request, whose evaluation finds it final.
    resetOwnEvents();
    expect(await named(revert.number)).toEqual([request]);
  });
});
