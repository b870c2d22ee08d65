import { beforeEach, describe, expect, it } from "@jest/globals";
import type { GitHub } from "../src/github/client.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { KeyedQueue } from "../src/handlers/queue.js";
import { providerFactory } from "../src/providers/registry.js";
import { Scheduler } from "../src/scheduler/scheduler.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { fixedClock } from "./helpers/app.js";

/**
 * The urgent lane (cluster/clients.ts): inside a grant's turn, the record read, the record written
 * and the provider's GitHub writes go through the installation's urgent client; labels, comments,
 * the merge and the check shown to people through the normal one. Both clients here are the
 * in-memory GitHub's, each noting its requests, so a request sent through the wrong one is seen.
 */
const START = new Date("2026-11-29T12:00:00Z");
const quiet = { info() {}, warn() {}, error() {} };
/** Requests are noted by Octokit's route (its template), as the hook sees them. */
const MEMBERSHIP = "/orgs/{org}/teams/{team_slug}/memberships/{username}";
const RECORD_WRITE = "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}";

beforeEach(() => resetLiveGrantCaches());

/** A client of the fake that notes each of its requests (`METHOD /path`) in `into`. */
function noting(fake: FakeGitHub, into: string[]): GitHub {
  const gh = fake.client() as GitHub & { hook: { before(name: "request", hook: (o: { method: string; url: string }) => void): void } };
  gh.hook.before("request", (o) => void into.push(`${o.method} ${o.url}`));
  return gh;
}

function world() {
  const clock = fixedClock(START);
  const fake = new FakeGitHub({ appId: 1, now: () => clock.now() });
  accessRepository(fake, ["alice", "carol"]);
  fake.addMember("acme/platform", "carol");
  const queue = new KeyedQueue((key, error) => {
    throw new Error(`evaluation of ${key} failed: ${(error as Error).message}`);
  });
  const normal: string[] = [];
  const urgent: string[] = [];
  const lanes: number[] = [];
  const deps = { appId: 1, now: () => clock.now(), providers: providerFactory({}), urgentClient: async (id: number) => (lanes.push(id), noting(fake, urgent)) };
  const scheduler = new Scheduler({ list: async () => [], client: async () => noting(fake, normal) }, deps, clock, quiet, queue);
  const evaluate = async (number: number) => {
    await scheduler.enqueue(noting(fake, normal), 4242, { ...ref, number });
    await queue.idle();
  };
  return { fake, clock, evaluate, normal, urgent, lanes };
}

describe("the urgent lane", () => {
  it("carries the apply and the revoke with the record around them, and nothing else", async () => {
    const w = world();
    const content = `requester: alice\nresource: prod-admins\nrole: member\nduration: 2h\nreason: "Investigate INC-4211 on the primary database"\n`;
    const number = (await openRequest(w.fake.as("alice"), ref, { branch: "request-alice", path: "grants/prod-admins/alice.yaml", content }))!;
    await w.fake.as("carol").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
    // Approved and merged, then applied in the same turn (the merged request evaluated at once).
    await w.evaluate(number);
    expect(w.fake.isMember("acme/prod-admins", "alice")).toBe(true);
    const applied = [...w.urgent];
    await w.evaluate(number); // the merge's webhook, later: nothing left to do in the urgent lane
    expect(w.urgent).toEqual(applied);
    expect(w.lanes.every((id) => id === 4242)).toBe(true);

    const writes = (requests: string[]) => requests.filter((r) => !r.startsWith("GET "));
    // The standing recorded (the record), then the membership given: both urgent, in that order.
    expect(writes(w.urgent)).toEqual([RECORD_WRITE, `PUT ${MEMBERSHIP}`]);
    expect(w.urgent).toContain(`GET ${MEMBERSHIP}`); // the provider's reads too
    expect(writes(w.normal).filter((r) => r.includes("/teams/"))).toEqual([]); // (its reads there: approvers' memberships)
    // Labels, the comment and the record's final text stay on the normal lane.
    expect(writes(w.normal).some((r) => r.includes("/labels"))).toBe(true);
    expect(writes(w.normal).some((r) => r.includes("/comments"))).toBe(true);
    expect(writes(w.normal).some((r) => r.startsWith("PUT") && r.endsWith("/merge"))).toBe(true);

    // The end: the revoke and the record of it urgent, its bookkeeping (revert PR, labels, comment) not.
    w.urgent.length = 0;
    w.normal.length = 0;
    w.clock.set(new Date(START.getTime() + 3 * 3600_000));
    await w.evaluate(number);
    expect(w.fake.isMember("acme/prod-admins", "alice")).toBe(false);
    expect(writes(w.urgent)).toEqual([`DELETE ${MEMBERSHIP}`, RECORD_WRITE]);
    expect(writes(w.normal).some((r) => r.includes("/pulls") && r.startsWith("POST"))).toBe(true); // the revert PR
    expect(writes(w.normal).filter((r) => r.includes("/teams/"))).toEqual([]);
  });
});
