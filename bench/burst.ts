import { TEAM_AND_HOOK_POLICY } from "./team-and-hook-policy.js";
import { generateKeyPairSync } from "node:crypto";
import { Probot } from "probot";
import { createApp } from "../src/app.js";
import { recordKey } from "../src/github/record.js";
import { readState } from "../src/lifecycle/codec.js";
import { githubTeamProvider } from "../src/providers/github-team.js";
import type { Provider } from "../src/providers/types.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { openRequest } from "../testkit/people.js";
import { measureEvaluationCost, total } from "./api-cost.js";
import { percentile } from "./stats.js";

/**
 * A burst of approvals with Probot's throttle on (one write a second per throttle id, issue
 * comments every 3 s), the in-memory GitHub answering each request in 50 ms: 12 requests — half
 * github-team (the membership PUT and DELETE are GitHub writes too), half a provider outside
 * GitHub (the webhook provider's place, recording in memory) — are opened, evaluated, then all
 * approved at once; each is merged by the app, applied, and revoked when its 1-minute window ends.
 *
 * "before": one client per installation for everything, the policy and CODEOWNERS read by every
 * evaluation (`urgentLane: false`, `readCache: false`); "after": the urgent lane and the cache.
 * Both run in this process, one after the other, each in its own installation (the throttle's
 * groups are process-wide and keyed by installation: the second must not inherit the first's queue).
 */
const APP_ID = 1;
const GRANTS = 12;
const LATENCY_MS = 50;
const POLICY = TEAM_AND_HOOK_POLICY;
const ref = { owner: "acme", repo: "access" };
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });

interface Timeline {
  merged?: number;
  applied?: number;
  revoked?: number;
  expiresAt?: number;
}

export interface BurstResult {
  applyMs: number[];
  revokeLagMs: number[];
  notApplied: number;
  notRevoked: number;
}

async function phase(variant: "before" | "after", installationId: number): Promise<BurstResult> {
  const fake = new FakeGitHub(APP_ID);
  const people = Array.from({ length: GRANTS }, (_, i) => `user${i}`);
  fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": "* @acme/platform\n" }, { writers: [...people, "carol"], installationId });
  fake.addMember("acme/platform", "carol");
  fake.latencyMs = LATENCY_MS;
  const byPerson = new Map<string, Timeline>();
  const byPull = new Map<number, string>();
  const at = (login: string) => byPerson.get(login.toLowerCase())!;
  // The provider outside GitHub: apply and revoke are noted when called.
  const memory: Provider = {
    units: (t) => [`hook:${t.requester}`],
    held: async () => [],
    apply: async (t) => void (at(t.requester).applied ??= Date.now()),
    revoke: async (t) => void (at(t.requester).revoked ??= Date.now()),
    describe: (t) => `hook for ${t.requester}`,
  };
  // GitHub's side: the moment it serves the merge, and the team membership's PUT and DELETE.
  fake.onRequest(({ method, path }) => {
    const merge = /^\/repos\/acme\/access\/pulls\/(\d+)\/merge$/.exec(path);
    if (method === "PUT" && merge) byPerson.get(byPull.get(Number(merge[1]))!)!.merged ??= Date.now();
    const member = /^\/orgs\/acme\/teams\/prod-admins\/memberships\/(.+)$/.exec(path);
    if (member && method === "PUT") at(member[1]!).applied ??= Date.now();
    if (member && method === "DELETE") at(member[1]!).revoked ??= Date.now();
  });
  const probot = new Probot({ appId: APP_ID, privateKey, logLevel: "fatal", request: { fetch: fake.fetch } });
  const app = createApp({
    appId: APP_ID,
    providers: (name, gh) => (name === "github-team" ? githubTeamProvider(gh) : name === "webhook" ? memory : undefined),
    sweepSchedule: null,
    urgentLane: variant === "after",
    readCache: variant === "after",
  });
  await probot.load(app);
  fake.onDelivery((d) => void probot.receive({ id: d.id, name: d.name, payload: d.payload } as Parameters<typeof probot.receive>[0]).catch(() => {}));

  for (const [i, login] of people.entries()) {
    const team = i % 2 === 0;
    const content = `requester: ${login}\nresource: ${team ? "team" : "hook"}\nrole: ${team ? "member" : "operator"}\nduration: 1m\nreason: "burst benchmark ${i}"\n`;
    const number = (await openRequest(fake.as(login), ref, { branch: `request-${login}`, path: `grants/${team ? "team" : "hook"}/${login}.yaml`, content }))!;
    byPerson.set(login, {});
    byPull.set(number, login);
  }
  await settle(app);
  // The burst: every request approved at once.
  await Promise.all([...byPull.keys()].map((number) => fake.as("carol").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" })));
  const deadline = Date.now() + 4 * 60_000;
  const done = () => [...byPerson.values()].every((t) => t.revoked !== undefined);
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  const repo = fake.repo("acme", "access")!;
  for (const [number, login] of byPull) {
    const run = repo.checkRuns.filter((r) => r.externalId === recordKey({ repoId: repo.id, number })).sort((a, b) => b.id - a.id)[0];
    const expires = readState((run as { output?: { text?: string } } | undefined)?.output?.text ?? "")?.expires_at;
    if (expires) at(login).expiresAt = Date.parse(expires);
  }
  await app.close();
  fake.closed = true;
  const timelines = [...byPerson.values()];
  return {
    applyMs: timelines.filter((t) => t.merged !== undefined && t.applied !== undefined).map((t) => t.applied! - t.merged!).sort((a, b) => a - b),
    revokeLagMs: timelines.filter((t) => t.revoked !== undefined && t.expiresAt !== undefined).map((t) => t.revoked! - t.expiresAt!).sort((a, b) => a - b),
    notApplied: timelines.filter((t) => t.applied === undefined).length,
    notRevoked: timelines.filter((t) => t.revoked === undefined).length,
  };
}

/** Until the app's queue has been empty for a moment (the opened PRs' evaluations and their paced writes). */
async function settle(app: { queue: { depth: number; idle(): Promise<void> } }): Promise<void> {
  for (let quiet = 0; quiet < 4; ) {
    await new Promise((r) => setTimeout(r, 250));
    quiet = app.queue.depth === 0 ? quiet + 1 : 0;
    if (app.queue.depth > 0) await app.queue.idle();
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function benchBurst(): Promise<string[]> {
  const lines: string[] = [];
  const costs = { before: await measureEvaluationCost({ readCache: false }), after: await measureEvaluationCost({ readCache: true }) };
  for (const [variant, installationId] of [["before", 5001], ["after", 5002]] as const) {
    const r = await phase(variant, installationId);
    const c = costs[variant];
    lines.push(
      `${variant === "before" ? "before (one lane, no cache)" : "after (urgent lane, cache)"}: merge→apply p50 ${s(percentile(r.applyMs, 50))}, p95 ${s(percentile(r.applyMs, 95))}, max ${s(percentile(r.applyMs, 100))}; ` +
        `revoke lag p50 ${s(percentile(r.revokeLagMs, 50))}, max ${s(percentile(r.revokeLagMs, 100))}; never applied ${r.notApplied}, never revoked ${r.notRevoked}; ` +
        `requests (counted against the rate limit): first evaluation ${total(c.first)} (${total(c.first) - c.notModified.first}), just opened ${total(c.opened)} (${total(c.opened) - c.notModified.opened}), redelivery ${total(c.redelivery)} (${total(c.redelivery) - c.notModified.redelivery})`,
    );
  }
  lines.push(`targets: merge→apply p95 ≤ 2 s, revoke lag ≤ 1 s for every grant, first evaluation ≤ 8 requests, redelivery ≤ 3 (a 304 is not counted against the rate limit)`);
  return lines;
}

if (process.argv[1]?.endsWith("burst.js")) for (const line of await benchBurst()) console.log(line);
