import { performance } from "node:perf_hooks";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import type { Provider } from "../src/providers/types.js";
import { Scheduler, type Clock } from "../src/scheduler/scheduler.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, seedLiveGrant } from "../testkit/live-grants.js";
import { fmt, summarize } from "./stats.js";

const APP_ID = 1;
const quiet = { info() {}, warn() {}, error() {} };

/** A provider that records when each revoke reached it (real time). */
function timingProvider() {
  const revokedAt = new Map<string, number>();
  const provider: Provider = {
    units: (t) => [t.id],
    held: async () => [],
    apply: async () => {},
    revoke: async (t) => void revokedAt.set(t.id, Date.now()),
    describe: () => "benchmark target",
  };
  return { provider, revokedAt };
}

/** Real timers; `now` may be moved ahead (the sweep benchmark lets an hour pass at once). */
function offsetClock(): Clock & { offsetMs: number } {
  const clock = {
    offsetMs: 0,
    now: () => new Date(Date.now() + clock.offsetMs),
    setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
  };
  return clock;
}

function scheduler(fake: FakeGitHub, provider: Provider, clock: Clock): Scheduler {
  return new Scheduler(
    { list: async () => [{ id: 4242, account: { login: "acme", type: "Organization" } }], client: async () => fake.client() },
    { appId: APP_ID, now: () => clock.now(), providers: () => provider },
    clock,
    quiet,
  );
}

/** The grants were requested and applied two hours ago: their PRs have not changed since (as in a running system). */
async function world(count: number, expiresAt: (i: number) => Date, clock: Clock & { offsetMs: number }): Promise<FakeGitHub> {
  const fake = new FakeGitHub({ appId: APP_ID, now: () => clock.now() });
  const users = Array.from({ length: count }, (_, i) => `user${i + 1}`);
  const offset = clock.offsetMs;
  clock.offsetMs = offset - 2 * 3600_000;
  accessRepository(fake, users);
  for (const [i, user] of users.entries()) await seedLiveGrant(fake, user, { appliedAt: clock.now(), expiresAt: expiresAt(i + 1) }, "memory");
  clock.offsetMs = offset;
  resetLiveGrantCaches();
  fake.reset();
  return fake;
}

/** Expiry lag: from `expires_at` to the provider's revoke, `count` grants expiring in the same second, real timers. */
export async function benchExpiryLag(latencyMs: number, count = 100): Promise<string[]> {
  const clock = offsetClock();
  // A whole second beyond the scheduler's 10 s lead, as in production: the reads happen before it.
  const expiry = new Date(Math.ceil((Date.now() + 15_000) / 1000) * 1000);
  const fake = await world(count, () => expiry, clock);
  const timing = timingProvider();
  const s = scheduler(fake, timing.provider, clock);
  await s.rebuild(); // the index a running app has long had; it arms the timer for `expiry`
  fake.latencyMs = latencyMs;
  while (timing.revokedAt.size < count && Date.now() < expiry.getTime() + 60_000) await new Promise((r) => setTimeout(r, 20));
  s.stop();
  const lags = summarize([...timing.revokedAt.values()].map((t) => t - expiry.getTime()));
  return [`${timing.revokedAt.size}/${count} revoked; lag from expires_at to the provider's revoke: median ${lags.median} ms, p99 ${lags.p99} ms, max ${lags.max} ms (GitHub answering in ${latencyMs} ms a request)`];
}

/** API requests of the start-up rebuild and of a sweep with 1,000 live grants: none due, then 10 due. */
export async function benchSweepCost(): Promise<string[]> {
  const clock = offsetClock();
  const hour = 3600_000;
  // Ten grants expire within the hour, the others in a day.
  const fake = await world(1000, (i) => new Date(Date.now() + (i <= 10 ? hour - 60_000 : 24 * hour)), clock);
  const timing = timingProvider();
  const s = scheduler(fake, timing.provider, clock);
  const started = performance.now();
  await s.rebuild();
  const rebuild = fake.requests.length;
  const rebuildByRoute = countByRoute(fake.requests);
  const rebuildMs = performance.now() - started;
  // The first sweep after start-up looks back to the oldest live grant's start (a command written
  // while the app was down must be found): it evaluates every live grant once.
  fake.reset();
  await s.sweep();
  const first = fake.requests.length;
  const firstDetail = countByRoute(fake.requests);
  fake.reset();
  await s.sweep();
  const none = fake.requests.length;
  const noneDetail = countByRoute(fake.requests);

  // An hour passes: the ten are due. The sweep finds them in its index (its timer would have too).
  clock.offsetMs = hour;
  fake.reset();
  await s.sweep();
  const ten = fake.requests.length;
  const tenDetail = countByRoute(fake.requests);
  s.stop(); // its timer (a day away) would keep the process alive
  return [
    `start-up rebuild with 1,000 live grants: ${rebuild} requests (${rebuildByRoute}), ${fmt(rebuildMs, 0)} ms — ${(rebuild / 1000).toFixed(1)} per grant`,
    `the first sweep after start-up, none due: ${first} requests (${firstDetail}) — ${(first / 1000).toFixed(1)} per grant`,
    `a sweep with none due: ${none} requests (${noneDetail})`,
    `a sweep with 10 due: ${ten} requests (${((ten - none) / 10).toFixed(1)} per expired grant; ${tenDetail}), ${timing.revokedAt.size} revoked`,
  ];
}

/** "12 GET /repos/…/check-runs, …": requests grouped by route, most frequent first. */
export function countByRoute(requests: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const route = r
      .replace(/\/repos\/[^/]+\/[^/]+/, "")
      .replace(/contents\/.+/, "contents/{path}")
      .replace(/[0-9a-f]{40}/g, "{sha}")
      .replace(/\/\d+/g, "/{n}");
    counts.set(route, (counts.get(route) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([route, n]) => `${n} ${route}`).join(", ");
}
