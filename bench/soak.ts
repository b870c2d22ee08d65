import { Octokit } from "@octokit/rest";
import { retry } from "@octokit/plugin-retry";
import { KeyedQueue } from "../src/handlers/queue.js";
import { ProviderError, type Provider } from "../src/providers/types.js";
import { Scheduler, type Clock } from "../src/scheduler/scheduler.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { percentile } from "./stats.js";

/**
 * The soak: `grants` requests over 30 simulated minutes (opened over the first 20, each approved at
 * once, windows of 1 to 10 minutes), while GitHub answers 5xx and 429 at random and the provider
 * fails at random. The app runs as in production but for the clock: the scheduler's timers, the
 * windows and the sweep (every simulated minute) follow a simulated clock, which moves only when
 * the app has gone quiet — so a lag measured here is what the app's own scheduling adds (its
 * retries and backoffs), not GitHub's latency (the burst benchmark measures that). GitHub's
 * failures are retried by Octokit's retry plugin, as Probot's client does.
 *
 * Checked at the end: nothing applied twice, nothing left held, and each revoke's lag from its end,
 * counted from the moment its provider first answered it.
 */
const START = Date.parse("2026-12-07T09:00:00Z");
const MINUTE = 60_000;

/** A clock whose time moves only when told to; its timers fire in order as it moves. */
export class SimulatedClock implements Clock {
  constructor(public at = START) {}
  readonly timers: { fn: () => void; at: number }[] = [];
  now = () => new Date(this.at);
  setTimeout = (fn: () => void, ms: number) => {
    const timer = { fn, at: this.at + Math.max(0, ms) };
    this.timers.push(timer);
    return timer;
  };
  clearTimeout = (handle: unknown) => {
    const i = this.timers.indexOf(handle as { fn: () => void; at: number });
    if (i >= 0) this.timers.splice(i, 1);
  };
  /** The earliest timer due by `to`, taken off the list. */
  takeDue(to: number) {
    let best = -1;
    for (const [i, t] of this.timers.entries()) if (t.at <= to && (best < 0 || t.at < this.timers[best]!.at)) best = i;
    return best < 0 ? undefined : this.timers.splice(best, 1)[0]!;
  }
}

/** A deterministic random source (mulberry32), so a run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SoakResult {
  grants: number;
  applied: number;
  appliedTwice: number;
  leftHeld: number;
  neverApplied: number;
  revokeLagMs: number[];
  retriedRevokeLagMs: number[];
  githubFailures: number;
  providerFailures: number;
  requests: number;
  evaluationFailures: number;
  realMs: number;
}

export async function soak(grants = 1000, seed = 20261207, failure = { github: 0.03, provider: 0.05 }): Promise<SoakResult> {
  const started = Date.now();
  const rnd = random(seed);
  const clock = new SimulatedClock();
  const fake = new FakeGitHub({ appId: 1, now: () => clock.now() });
  const people = Array.from({ length: grants }, (_, i) => `user${i}`);
  accessRepository(fake, [...people, "carol"]);
  fake.addMember("acme/platform", "carol");

  // The provider: one unit per person; apply and revoke fail now and then (retryable).
  const held = new Set<string>();
  const applies = new Map<string, number>();
  const revokedAt = new Map<string, number>();
  const failedRevokes = new Set<string>();
  let providerFailures = 0;
  const unit = (requester: string) => `member:${requester}`;
  const provider: Provider = {
    units: (t) => [unit(t.requester)],
    held: async (t) => (held.has(unit(t.requester)) ? [unit(t.requester)] : []),
    apply: async (t) => {
      if (rnd() < failure.provider) {
        providerFailures++;
        throw new ProviderError("the target did not answer (soak)", true);
      }
      held.add(unit(t.requester));
      applies.set(t.id, (applies.get(t.id) ?? 0) + 1);
    },
    revoke: async (t, units) => {
      if (rnd() < failure.provider) {
        providerFailures++;
        failedRevokes.add(t.id);
        throw new ProviderError("the target did not answer (soak)", true);
      }
      for (const u of units) held.delete(u);
      if (!revokedAt.has(t.id)) revokedAt.set(t.id, clock.at);
    },
    describe: (t) => `soak unit of ${t.requester}`,
  };

  // GitHub fails 3% of the app's requests: 502 or a secondary rate limit (429, Retry-After 0).
  fake.failure = () => (rnd() < failure.github ? (rnd() < 0.5 ? 502 : 429) : undefined);
  const Retrying = Octokit.plugin(retry);
  const gh = fake.client(4242, Retrying as unknown as typeof Octokit, { retry: { retryAfterBaseValue: 0, retries: 5 } });

  let evaluationFailures = 0;
  const queue = new KeyedQueue(() => void evaluationFailures++);
  const quiet = { info() {}, warn() {}, error() {} };
  const scheduler = new Scheduler(
    { list: async () => [{ id: 4242, account: { login: "acme", type: "Organization" } }], client: async () => gh },
    { appId: 1, now: () => clock.now(), providers: () => provider },
    clock,
    quiet,
    queue,
  );

  /** Until the app has made no request for a few turns of the event loop (nothing in flight). */
  const settle = async () => {
    for (let still = 0; still < 4; ) {
      const before = fake.requests.length + fake.failed.length;
      await new Promise((r) => setTimeout(r, 2));
      still = fake.requests.length + fake.failed.length === before ? still + 1 : 0;
    }
  };
  /** Moves the clock to `to`, firing every timer due on the way, each once the app is quiet. */
  const advance = async (to: number) => {
    for (let timer = clock.takeDue(to); timer; timer = clock.takeDue(to)) {
      clock.at = Math.max(clock.at, timer.at);
      timer.fn();
      await settle();
    }
    clock.at = to;
  };

  const opensAt = people.map(() => START + Math.floor(rnd() * 20 * MINUTE));
  const durations = people.map(() => [1, 2, 5, 10][Math.floor(rnd() * 4)]!);
  const order = people.map((_, i) => i).sort((a, b) => opensAt[a]! - opensAt[b]!);
  const expiresById = new Map<string, number>();
  let next = 0;
  for (let t = START; t <= START + 40 * MINUTE; t += 1000) {
    await advance(t);
    // Requests opened this second: opened, approved at once, their webhook's evaluation queued.
    for (; next < order.length && opensAt[order[next]!]! <= t; next++) {
      const i = order[next]!;
      const login = people[i]!;
      const content = `requester: ${login}\nresource: prod-admins\nrole: member\nduration: ${durations[i]}m\nreason: "Investigate INC-4211 on the primary database (soak ${i})"\n`;
      const number = (await openRequest(fake.as(login), ref, { branch: `request-${login}`, path: `grants/prod-admins/${login}.yaml`, content }))!;
      await fake.as("carol").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
      void scheduler.enqueue(gh, 4242, { ...ref, number });
    }
    if ((t - START) % MINUTE === 0) void scheduler.sweep().catch(() => void evaluationFailures++);
    await settle();
  }
  scheduler.stop();
  if (process.env.JIT_SOAK_DEBUG) {
    const r = fake.repo("acme", "access")!;
    for (const pr of [...r.pulls.values()].filter((p) => !applies.has(`repo:${r.id}#${p.number}`))) console.log(pr.number, pr.state, pr.merged, pr.labels, r.checkRuns.filter((c) => c.headSha === pr.headSha).map((c) => c.output.title + " | " + c.output.text.slice(-500)));
  }
  // Each grant's window, from its record.
  const repo = fake.repo("acme", "access")!;
  for (const run of repo.checkRuns) {
    const match = /"expires_at":"([^"]+)"/.exec(run.output.text);
    if (match && run.externalId) expiresById.set(run.externalId, Date.parse(match[1]!)); // the grant's id is its record's key
  }
  // Lag from the end: for revokes whose provider answered at the first try, and apart for those
  // whose first try failed (their lag is the app's backoff before it tried again).
  const lags: number[] = [];
  const retriedLags: number[] = [];
  for (const [id, at] of revokedAt) {
    const end = expiresById.get(id);
    if (end === undefined) continue;
    (failedRevokes.has(id) ? retriedLags : lags).push(at - end);
  }
  return {
    grants,
    applied: applies.size,
    appliedTwice: [...applies.values()].filter((n) => n > 1).length,
    leftHeld: held.size,
    neverApplied: grants - applies.size,
    revokeLagMs: lags.sort((a, b) => a - b),
    retriedRevokeLagMs: retriedLags.sort((a, b) => a - b),
    githubFailures: fake.failed.length,
    providerFailures,
    requests: fake.requests.length,
    evaluationFailures,
    realMs: Date.now() - started,
  };
}

export async function benchSoak(): Promise<string[]> {
  const grants = Number(process.env.JIT_SOAK_GRANTS ?? 1000);
  const r = await soak(grants);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return [
    `${r.grants} grants over 30 simulated minutes (${s(r.realMs)} real): ${r.requests} requests to GitHub, ${r.githubFailures} of them failed on purpose (502/429); ${r.providerFailures} provider calls failed on purpose; ${r.evaluationFailures} evaluations failed (redone by the sweep)`,
    `applied ${r.applied}, never applied ${r.neverApplied}; applied twice: ${r.appliedTwice}; left held at the end: ${r.leftHeld}`,
    `revoke lag from the end (simulated time), provider answering at the first try: median ${percentile(r.revokeLagMs, 50)} ms, p99 ${percentile(r.revokeLagMs, 99)} ms, max ${percentile(r.revokeLagMs, 100)} ms, over ${r.revokeLagMs.length} revokes`,
    `revoke lag from the end when the provider failed first (the app's backoff): median ${s(percentile(r.retriedRevokeLagMs, 50))}, max ${s(percentile(r.retriedRevokeLagMs, 100))}, over ${r.retriedRevokeLagMs.length} revokes`,
  ];
}

if (process.argv[1]?.endsWith("soak.js")) for (const line of await benchSoak()) console.log(line);
