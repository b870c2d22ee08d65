import { beforeEach, describe, expect, it } from "@jest/globals";
import { Octokit } from "@octokit/rest";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref, seedLiveGrant } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import type { GitHub } from "../src/github/client.js";
import { evaluatePullRequest } from "../src/handlers/evaluate.js";
import type { Provider } from "../src/providers/types.js";
import { Scheduler, SWEEP_BACK_OFF, SWEEP_EVALUATIONS } from "../src/scheduler/scheduler.js";
import { fixedClock } from "./helpers/app.js";

/**
 * "Bounded work": 200 merged PRs that a person labelled `jit:revert-blocked` (none of them a
 * grant, so no record of the app calls for the label) used to be re-evaluated by every sweep, for
 * ever, spending the installation's rate limit while revokes waited. Counted on the in-memory
 * GitHub, in requests (never milliseconds).
 */
const LABELLED = 200;
const quiet = { info() {}, warn() {}, error() {} };
const START = new Date("2026-11-29T14:00:00Z");
const minutes = (n: number) => new Date(START.getTime() + n * 60_000);

beforeEach(() => resetLiveGrantCaches());

interface World {
  fake: FakeGitHub;
  clock: ReturnType<typeof fixedClock>;
  scheduler: Scheduler;
  labelled: number[];
  revokedAt: Date[];
  /** `fake.requests.length` when each revoke happened. */
  revokedAfter: number[];
}

/** The access repository, `LABELLED` merged PRs (a docs change each) a person labelled, and optionally alice's grant. */
async function world(o: { grantExpiresAt?: Date; client?: (fake: FakeGitHub) => GitHub } = {}): Promise<World> {
  const clock = fixedClock(START);
  const fake = new FakeGitHub({ appId: 1, now: () => clock.now() });
  accessRepository(fake, ["alice", "sam"]);
  const sam = fake.as("sam");
  const labelled: number[] = [];
  for (let i = 0; i < LABELLED; i++) {
    const number = (await openRequest(sam, ref, { branch: `docs-${i}`, path: `docs/note-${i}.md`, content: `note ${i}\n` }))!;
    await sam.rest.pulls.merge({ ...ref, pull_number: number, merge_method: "squash" });
    await sam.rest.issues.addLabels({ ...ref, issue_number: number, labels: ["jit:revert-blocked"] });
    labelled.push(number);
  }
  if (o.grantExpiresAt) await seedLiveGrant(fake, "alice", { appliedAt: START, expiresAt: o.grantExpiresAt });
  const revokedAt: Date[] = [];
  const revokedAfter: number[] = [];
  const provider: Provider = {
    units: (t) => [t.requester],
    held: async () => [],
    apply: async () => {},
    revoke: async () => {
      revokedAt.push(clock.now());
      revokedAfter.push(fake.requests.length);
    },
    describe: () => "",
  };
  const installations = { list: async () => [{ id: 4242, account: { login: "acme", type: "Organization" } }], client: async () => (o.client ? o.client(fake) : fake.client()) };
  const scheduler = new Scheduler(installations, { appId: 1, now: () => clock.now(), providers: () => provider }, clock, quiet);
  return { fake, clock, scheduler, labelled, revokedAt, revokedAfter };
}

/** The labelled PRs an evaluation read (its first request is the PR itself). */
const evaluated = (w: World) => {
  const labelled = new Set(w.labelled);
  return w.fake.requests.map((r) => /^GET \/repos\/acme\/access\/pulls\/(\d+)$/.exec(r)?.[1]).filter((n): n is string => n !== undefined).map(Number).filter((n) => labelled.has(n));
};

/** What one evaluation of a labelled PR costs, measured the way the sweep would spend it. */
async function perPullRequest(w: World): Promise<number> {
  w.fake.reset();
  await evaluatePullRequest(w.fake.client(), { ...ref, number: w.labelled[0]! }, { appId: 1, now: () => w.clock.now(), providers: () => ({}) as Provider }, quiet);
  const cost = w.fake.requests.length;
  w.fake.reset();
  return cost;
}

/** One sweep at minute `m`: what it asked GitHub, and which labelled PRs it evaluated. */
async function sweepAt(w: World, m: number): Promise<{ requests: number; evaluated: number[]; searches: number }> {
  w.clock.set(minutes(m));
  w.fake.reset();
  await w.scheduler.sweep();
  return { requests: w.fake.requests.length, evaluated: evaluated(w), searches: w.fake.count("GET /search/issues") };
}

describe("a sweep over 200 merged PRs a person labelled jit:revert-blocked", () => {
  it(`evaluates at most ${SWEEP_EVALUATIONS} of them, reaches every one in turn, and evaluates one whose record does not call for the label at most once per ${SWEEP_BACK_OFF} sweeps`, async () => {
    const w = await world();
    const cost = await perPullRequest(w);
    expect(cost).toBeGreaterThan(0);
    await w.scheduler.rebuild();

    const seen = new Map<number, number[]>(); // PR → the sweeps that evaluated it
    const sweeps = SWEEP_BACK_OFF + 2;
    for (let s = 1; s <= sweeps; s++) {
      const run = await sweepAt(w, s);
      // The searches (every PR updated since the last sweep: 2 pages of 100; pending: 1; revert-blocked:
      // 2 pages), one policy read at most, and the capped evaluations.
      expect(run.searches).toBeLessThanOrEqual(5);
      expect(run.evaluated.length).toBeLessThanOrEqual(SWEEP_EVALUATIONS);
      expect(run.requests).toBeLessThanOrEqual(run.searches + 1 + SWEEP_EVALUATIONS * cost);
      for (const n of run.evaluated) seen.set(n, [...(seen.get(n) ?? []), s]);
      if (s === Math.ceil(LABELLED / SWEEP_EVALUATIONS)) expect(seen.size).toBe(LABELLED); // round-robin: all reached
    }
    for (const [, at] of seen) {
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(SWEEP_BACK_OFF);
    }
    w.scheduler.stop();
  });

  it("still revokes a grant due at the sweep's moment, before any labelled PR is evaluated", async () => {
    const w = await world({ grantExpiresAt: minutes(1) });
    await w.scheduler.rebuild(); // the grant is due in a minute: nothing to do yet
    expect(w.revokedAt).toEqual([]);

    // The sweep's tick and the expiry coincide (the timer has not fired): the revoke goes first.
    const run = await sweepAt(w, 1);
    expect(w.revokedAt).toEqual([minutes(1)]);
    const before = w.fake.requests.slice(0, w.revokedAfter[0]);
    expect(before.filter((r) => w.labelled.some((n) => r === `GET /repos/acme/access/pulls/${n}`))).toEqual([]);
    expect(run.evaluated.length).toBeLessThanOrEqual(SWEEP_EVALUATIONS);
    w.scheduler.stop();
  });
});

describe("a sweep that meets GitHub's spent rate limit", () => {
  it("stops evaluating for the rest of that run instead of trying every remaining PR (each would fail the same way)", async () => {
    let spent = false;
    let refused = 0;
    // The app's client, through the in-memory GitHub until the limit is spent: then 403, x-ratelimit-remaining 0, as GitHub answers.
    const limited = (fake: FakeGitHub): GitHub =>
      new Octokit({
        auth: fake.mintToken(1, 4242),
        log: { debug() {}, info() {}, warn() {}, error() {} },
        request: {
          fetch: async (input: string | URL, init?: RequestInit) => {
            if (!spent) return fake.fetch(input, init as Parameters<FakeGitHub["fetch"]>[1]);
            refused++;
            const response = new Response(JSON.stringify({ message: "API rate limit exceeded for installation ID 4242." }), { status: 403, headers: { "content-type": "application/json", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1796000000" } });
            Object.defineProperty(response, "url", { value: String(input) });
            return response;
          },
        },
      }) as unknown as GitHub;
    const w = await world({ client: limited });
    await w.scheduler.rebuild();
    // The searches answer; the limit is spent as the first evaluation starts.
    w.fake.onRequest((r) => void (/^\/repos\/acme\/access\/pulls\/\d+$/.test(r.path) && (spent = true)));
    await sweepAt(w, 1);
    // The first evaluation's next request is refused; it fails, and no other evaluation is tried.
    expect(refused).toBe(1);
    expect(w.fake.requests.filter((r) => /^GET \/repos\/acme\/access\/pulls\/\d+$/.test(r))).toHaveLength(1);
    w.scheduler.stop();
  });
});
