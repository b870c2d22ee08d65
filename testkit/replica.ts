import { generateKeyPairSync } from "node:crypto";
import { Probot, ProbotOctokit } from "probot";
import { createApp, type AppOptions, type JitApp } from "../src/app.js";
import type { Provider } from "../src/providers/types.js";
import type { Delivery, FakeGitHub } from "./fake-github.js";

/**
 * A replica as `probot run` makes one — Probot with the app loaded, REDIS_URL given to both — but
 * talking to the in-memory GitHub (Probot's `request.fetch`). Probot's own throttling stays on, so
 * with Redis it is the cluster-wide one; only retries are off, so that an error shows at once.
 */
const { privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});

const NoRetryOctokit = ProbotOctokit.defaults((options: Record<string, any>) => ({ ...options, retry: { ...options.retry, enabled: false } }));
/** For benchmarks of the app itself: Probot's throttling spaces writes 1 s apart, which would measure GitHub's limits instead. */
const NoThrottleOctokit = ProbotOctokit.defaults((options: Record<string, any>) => ({ ...options, retry: { ...options.retry, enabled: false }, throttle: { ...options.throttle, enabled: false } }));

export interface Replica {
  probot: Probot;
  app: JitApp;
  /** Delivers a webhook as Probot's route would (after the signature check). */
  receive(delivery: Delivery): Promise<void>;
  /** Until nothing is queued or running (a handler may queue its work a moment after it returns). */
  settled(): Promise<void>;
}

export async function startReplica(fake: FakeGitHub, o: { redisUrl?: string; provider: Provider; app?: Partial<AppOptions>; throttle?: boolean }): Promise<Replica> {
  const probot = new Probot({
    appId: fake.app.id,
    privateKey,
    logLevel: (process.env.TEST_LOG_LEVEL ?? "fatal") as "fatal",
    Octokit: o.throttle === false ? NoThrottleOctokit : NoRetryOctokit,
    request: { fetch: fake.fetch },
    ...(o.redisUrl ? { redisConfig: o.redisUrl } : {}),
  });
  const app = createApp({
    appId: fake.app.id,
    providers: () => o.provider,
    sweepSchedule: null,
    ...(o.redisUrl ? { redisUrl: o.redisUrl } : {}),
    ...o.app,
  });
  await probot.load(app);
  return {
    probot,
    app,
    receive: (d) => probot.receive({ id: d.id, name: d.name, payload: d.payload } as Parameters<Probot["receive"]>[0]),
    async settled() {
      for (let quiet = 0; quiet < 3; ) {
        await app.queue.idle();
        await new Promise((r) => setTimeout(r, 20));
        quiet = app.queue.depth === 0 ? quiet + 1 : 0;
      }
    },
  };
}

/**
 * Probot's Redis connection for its cluster-wide throttling (Bottleneck), from the options its
 * Octokit class was made with — undefined when throttling is not clustered. Probot never closes it;
 * tests and benchmarks do, or the process would not end.
 */
export async function throttleConnection(probot: Probot): Promise<{ disconnect(flush?: boolean): Promise<void> } | undefined> {
  const app = (await probot.auth()) as unknown as { auth(o: object): Promise<{ throttle?: { connection?: { disconnect(flush?: boolean): Promise<void> } } }> };
  const options = await app.auth({ type: "installation", installationId: 1, factory: ({ octokitOptions }: { octokitOptions: object }) => octokitOptions });
  return options.throttle?.connection;
}

/** An in-memory target: which units are held, every apply and revoke call with its time. */
export function memoryProvider(now: () => Date = () => new Date()) {
  const held = new Set<string>();
  const applies: { id: string; at: Date }[] = [];
  const revokes: { id: string; at: Date; expiresAt: string }[] = [];
  const provider: Provider = {
    units: (t) => [`member:${t.resource}:${t.requester}`],
    held: async (t) => (held.has(`member:${t.resource}:${t.requester}`) ? [`member:${t.resource}:${t.requester}`] : []),
    apply: async (t) => {
      applies.push({ id: t.id, at: now() });
      held.add(`member:${t.resource}:${t.requester}`);
    },
    revoke: async (t, units) => {
      revokes.push({ id: t.id, at: now(), expiresAt: t.expiresAt });
      for (const u of units) held.delete(u);
    },
    describe: (t) => `${t.requester} in ${t.resource} (in memory)`,
  };
  return { provider, held, applies, revokes };
}
