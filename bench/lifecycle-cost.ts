import { TEAM_AND_HOOK_POLICY } from "./team-and-hook-policy.js";
import { generateKeyPairSync } from "node:crypto";
import { Probot, ProbotOctokit } from "probot";
import { createApp } from "../src/app.js";
import { githubTeamProvider } from "../src/providers/github-team.js";
import type { Provider } from "../src/providers/types.js";
import { FakeGitHub, type Delivery } from "../testkit/fake-github.js";
import { openRequest } from "../testkit/people.js";
import { byRoute } from "./api-cost.js";
import { SimulatedClock } from "./soak.js";

/**
 * GitHub API requests of one grant's whole life, as the app runs it: opened and evaluated
 * (pending); reviewed by one member of each of the two CODEOWNERS groups — the second review
 * completes it: the app merges, evaluates the merged request in the same turn and applies (the
 * merge's own `closed` webhook is evaluated after); its 1-hour window runs (the expiry warning) and
 * ends: the revoke, the revert PR opened and merged by the app; then that revert PR's own webhooks
 * (opened, closed) are evaluated. Every request GitHub receives from the app is counted (the
 * installation token included), with those answered 304 (conditional reads of what had not
 * changed: not counted against the rate limit) and the writes, per phase and by route.
 *
 * The app is the real one (Probot, createApp, webhooks delivered as GitHub sends them), with
 * Probot's throttle off (pacing changes when requests are sent, not how many) and a simulated
 * clock moved by the benchmark, so an hour passes at once (a window under a minute would not do:
 * the app treats a grant ending within the minute as due, skipping the warning and the end's lead).
 * The revert PR's deliveries are held until the revoke has settled, so its own cost is told apart
 * (GitHub sends them while the revert is being merged; an evaluation starting then would see the
 * same PR a moment earlier).
 *
 * Two grants: a provider outside GitHub (in memory) and a `github-team` membership (whose reads,
 * PUT and DELETE are GitHub requests too). "before": one lane, no read cache (`urgentLane: false`,
 * `readCache: false`; without the cache the policy's provenance is not checked either, so its
 * first evaluation is cheaper); "after": the defaults. JIT_BENCH_VERBOSE=1 lists every request.
 */
const APP_ID = 1;
const START = Date.parse("2026-12-07T09:00:00Z");
const POLICY = TEAM_AND_HOOK_POLICY;
// Two groups own the grants: a request needs a review from a member of each.
const CODEOWNERS = "* @acme/platform\n/grants/ @acme/dba @acme/security\n";
const ref = { owner: "acme", repo: "access" };
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
const Unthrottled = ProbotOctokit.defaults((o: Record<string, any>) => ({ ...o, retry: { ...o.retry, enabled: false }, throttle: { ...o.throttle, enabled: false } }));

export const PHASES = ["opened (evaluated: pending)", "first review (dba)", "last review (security): merge, merged evaluation, apply", "window runs (before the end's lead)", "end: revoke, revert PR opened and merged", "the revert PR's own webhooks"] as const;

export interface PhaseCost {
  phase: string;
  requests: string[];
  notModified: number;
}

export interface LifecycleCost {
  phases: PhaseCost[];
  applied: boolean;
  revoked: boolean;
  /** The request's and the revert PR's final states (open/closed, merged). */
  outcome: string;
}

export async function lifecycleCost(variant: "before" | "after", kind: "memory" | "github-team", installationId: number): Promise<LifecycleCost> {
  const clock = new SimulatedClock(START);
  const fake = new FakeGitHub({ appId: APP_ID, now: () => clock.now() });
  fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": CODEOWNERS }, { writers: ["alice", "bob", "carol"], installationId });
  fake.addMember("acme/dba", "bob");
  fake.addMember("acme/security", "carol");
  let applied = false;
  let revoked = false;
  const memory: Provider = {
    units: (t) => [`hook:${t.requester}`],
    held: async () => (applied && !revoked ? [`hook:alice`] : []),
    apply: async () => void (applied = true),
    revoke: async () => void (revoked = true),
    describe: (t) => `hook for ${t.requester}`,
  };
  fake.onRequest(({ method, path }) => {
    if (!/^\/orgs\/acme\/teams\/prod-admins\/memberships\//.test(path)) return;
    if (method === "PUT") applied = true;
    if (method === "DELETE") revoked = true;
  });
  const probot = new Probot({ appId: APP_ID, privateKey, Octokit: Unthrottled, logLevel: "fatal", request: { fetch: fake.fetch } });
  const app = createApp({
    appId: APP_ID,
    clock,
    providers: (name, gh) => (name === "github-team" ? githubTeamProvider(gh) : name === "webhook" ? memory : undefined),
    sweepSchedule: null,
    urgentLane: variant === "after",
    readCache: variant === "after",
  });
  await probot.load(app);

  // Deliveries of the request go at once; those of any other PR (the revert PR) wait for the last phase.
  let request: number | undefined;
  const held: Delivery[] = [];
  const receive = (d: Delivery) => void probot.receive({ id: d.id, name: d.name, payload: d.payload } as Parameters<typeof probot.receive>[0]).catch(() => {});
  fake.onDelivery((d) => {
    const payload = d.payload as { pull_request?: { number: number }; issue?: { number: number } };
    const number = payload.pull_request?.number ?? payload.issue?.number;
    if (number !== undefined && request !== undefined && number !== request) held.push(d);
    else receive(d);
  });

  /**
   * Until the app has sent nothing for a few turns of the event loop and (`drained`) its queue is
   * empty; while the clock moves, a due grant's job waits in the queue for its moment (a simulated timer).
   */
  const settle = async (drained = true) => {
    for (let still = 0; still < 5; ) {
      const before = fake.requests.length;
      await new Promise((r) => setTimeout(r, 5));
      still = fake.requests.length === before && (!drained || app.queue.depth === 0) ? still + 1 : 0;
    }
  };
  /** Moves the clock to `to`, firing each timer due on the way once the app is quiet. */
  const advance = async (to: number) => {
    for (let timer = clock.takeDue(to); timer; timer = clock.takeDue(to)) {
      clock.at = Math.max(clock.at, timer.at);
      timer.fn();
      await settle(false);
    }
    clock.at = to;
  };
  const phases: PhaseCost[] = [];
  const measure = async (phase: string, act: () => Promise<void>) => {
    fake.reset();
    await act();
    await settle();
    phases.push({ phase, requests: [...fake.requests], notModified: fake.notModified.length });
  };

  const team = kind === "github-team";
  const content = `requester: alice\nresource: ${team ? "team" : "hook"}\nrole: ${team ? "member" : "operator"}\nduration: 1h\nreason: "lifecycle benchmark"\n`;
  await measure(PHASES[0], async () => {
    request = await openRequest(fake.as("alice"), ref, { branch: "request-alice", path: `grants/${team ? "team" : "hook"}/alice.yaml`, content });
  });
  const review = (login: string) => async () => void (await fake.as(login).rest.pulls.createReview({ ...ref, pull_number: request!, event: "APPROVE" }));
  await measure(PHASES[1], review("bob"));
  await measure(PHASES[2], review("carol"));
  // The scheduler reads a due grant's snapshot its lead (10 s) before the end: that read is the end's.
  await measure(PHASES[3], () => advance(clock.at + 59 * 60_000));
  await measure(PHASES[4], () => advance(clock.at + 5 * 60_000));
  await measure(PHASES[5], async () => {
    for (const d of held.splice(0)) receive(d);
  });
  app.scheduler.stop();
  await app.close();
  fake.closed = true;
  const pulls = [...fake.repo("acme", "access")!.pulls.values()].map((p) => `#${p.number} ${p.state}${p.merged ? " merged" : ""}`);
  return { phases, applied, revoked, outcome: pulls.join(", ") };
}

const isWrite = (r: string) => !r.startsWith("GET ");

function summary(requests: readonly string[], notModified: number): string {
  const writes = requests.filter(isWrite).length;
  return `${requests.length} requests (${requests.length - notModified} counted against the rate limit, ${notModified} answered 304), ${writes} writes`;
}

export async function benchLifecycleCost(): Promise<string[]> {
  const lines: string[] = [];
  let installationId = 6001;
  for (const kind of ["memory", "github-team"] as const) {
    for (const variant of ["before", "after"] as const) {
      const r = await lifecycleCost(variant, kind, installationId++);
      const all = r.phases.flatMap((p) => p.requests);
      const free = r.phases.reduce((n, p) => n + p.notModified, 0);
      lines.push(
        `${kind} grant, ${variant === "before" ? "before (one lane, no read cache)" : "after (urgent lane, read cache)"}: ${summary(all, free)} in all; applied ${r.applied}, revoked ${r.revoked}; ${r.outcome}`,
        ...r.phases.map((p) => `  ${p.phase}: ${summary(p.requests, p.notModified)}`),
        "  by route, whole life:",
        ...byRoute(all)
          .sort((a, b) => b[1] - a[1])
          .map(([route, n]) => `    ${String(n).padStart(2)}  ${route}`),
      );
      if (process.env.JIT_BENCH_VERBOSE) for (const p of r.phases) lines.push(`  -- ${p.phase}`, ...p.requests.map((x) => `     ${x}`));
    }
  }
  lines.push("target: one full lifecycle ≤ 44 requests (half of 89)");
  return lines;
}

if (process.argv[1]?.endsWith("lifecycle-cost.js")) for (const line of await benchLifecycleCost()) console.log(line);
