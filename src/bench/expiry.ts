import { performance } from "node:perf_hooks";
import { resetLiveGrantCaches } from "../github/live-grants.js";
import { embedState, type CommentState } from "../lifecycle/state-block.js";
import type { Provider } from "../providers/types.js";
import { Scheduler, systemClock } from "../scheduler/scheduler.js";
import { blobSha, emptyPull, FakeGitHub } from "./fake-github.js";
import { fmt, summarize } from "./stats.js";

const APP_ID = 1;
const POLICY = `version: 1
resources:
  prod-admins:
    provider: github-team
    config: { org: acme, team: prod-admins }
    roles:
      member: { max_duration: 8h }
`;
const quiet = { info() {}, warn() {}, error() {} };

/** A repository with `n` live grants (status comments recorded as the app writes them). */
function repositoryWith(fake: FakeGitHub, n: number, expiresAt: (i: number) => Date): void {
  const files = new Map([[".github/jit-access.yml", POLICY]]);
  const pulls = new Map();
  for (let i = 1; i <= n; i++) {
    const path = `grants/prod-admins/user${i}.yaml`;
    const content = `requester: user${i}\nresource: prod-admins\nrole: member\nduration: 2h\nreason: "benchmark grant ${i}"\n`;
    files.set(path, content);
    const state: CommentState = {
      v: 1, status: "APPROVED", path, blob: blobSha(content),
      grant: { requester: `user${i}`, resource: "prod-admins", role: "member", duration: "2h", reason: `benchmark grant ${i}` },
      standing: [], applied_at: new Date(0).toISOString(), starts_at: new Date(0).toISOString(), expires_at: expiresAt(i).toISOString(),
      warned_at: new Date(0).toISOString(), target: { provider: "memory", config: {}, grant: {} },
    };
    pulls.set(i, {
      ...emptyPull(i, `user${i}`), state: "closed", merged: true, labels: ["jit:approved"], createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z",
      files: [{ filename: path, status: "added", content }], comments: [{ id: 10_000 + i, byApp: true, login: "jit-access[bot]", body: embedState("granted", state) }],
    });
  }
  fake.repos.set("acme/access", { owner: "acme", repo: "access", checkRuns: [], pulls, files: new Map([["main", files]]) });
}

/** A provider that records when each revoke reached it. */
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

function scheduler(fake: FakeGitHub, provider: Provider): Scheduler {
  return new Scheduler(
    { list: async () => [{ id: 1, account: { login: "acme", type: "Organization" } }], client: async () => fake.client() },
    { appId: APP_ID, now: () => new Date(), providers: () => provider },
    systemClock,
    quiet,
  );
}

/** Expiry lag: from `expires_at` to the provider's revoke, `count` grants expiring in the same second, real timers. */
export async function benchExpiryLag(latencyMs: number, count = 100): Promise<string[]> {
  const fake = new FakeGitHub(APP_ID);
  // A whole second beyond the scheduler's 10 s lead, as in production: the reads happen before it.
  const expiry = new Date(Math.ceil((Date.now() + 12_000) / 1000) * 1000);
  repositoryWith(fake, count, () => expiry);
  resetLiveGrantCaches();
  const timing = timingProvider();
  const s = scheduler(fake, timing.provider);
  await s.rebuild(); // the index a running app has long had; it arms the timer for `expiry`
  fake.latencyMs = latencyMs;
  while (timing.revokedAt.size < count && Date.now() < expiry.getTime() + 60_000) await new Promise((r) => setTimeout(r, 20));
  s.stop();
  const lags = [...timing.revokedAt.values()].map((t) => t - expiry.getTime());
  const l = summarize(lags);
  const searches = fake.requests.filter((r) => r.startsWith("GET /search/issues")).length;
  return [`${timing.revokedAt.size}/${count} revoked; lag from expires_at to the provider's revoke: median ${l.median} ms, max ${l.max} ms (GitHub answering in ${latencyMs} ms a request; ${searches} searches in all)`];
}

/** API requests per sweep with 1,000 live grants: none due, then 10 due. */
export async function benchSweepCost(): Promise<string[]> {
  const fake = new FakeGitHub(APP_ID);
  const far = new Date(Date.now() + 24 * 3600_000);
  repositoryWith(fake, 1000, () => far);
  resetLiveGrantCaches();
  const timing = timingProvider();
  const s = scheduler(fake, timing.provider);
  const started = performance.now();
  await s.rebuild();
  const rebuild = fake.requests.length;
  const rebuildMs = performance.now() - started;
  fake.reset();
  await s.sweep();
  const none = fake.requests.length;
  const noneDetail = fake.requests.join(", ");

  // Ten grants become due (their expiry moves into the past, as time passing would do).
  const repo = fake.repos.get("acme/access")!;
  for (let i = 1; i <= 10; i++) {
    const pull = repo.pulls.get(i)!;
    pull.comments[0]!.body = pull.comments[0]!.body.replace(/"expires_at":"[^"]+"/, `"expires_at":"${new Date(Date.now() - 1000).toISOString()}"`);
    pull.updatedAt = new Date().toISOString();
  }
  fake.reset();
  await s.sweep();
  const ten = fake.requests.length;
  s.stop(); // its timer (a day away) would keep the process alive
  return [
    `start-up rebuild with 1,000 live grants: ${rebuild} requests (10 search pages + 1 status-comment read per grant + 1 installation list), ${fmt(rebuildMs, 0)} ms`,
    `a sweep with none due: ${none} requests (${noneDetail.replace(/\/repos\/acme\/access/g, "")})`,
    `a sweep with 10 due: ${ten} requests (${((ten - none) / 10).toFixed(1)} per expired grant: re-read 10 changed states, evaluate, revoke, revert PR, label, comment), ${timing.revokedAt.size} revoked`,
  ];
}
