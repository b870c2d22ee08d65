import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { generateKeyPairSync } from "node:crypto";
import { sign } from "@octokit/webhooks-methods";
import { Probot, ProbotOctokit, Server } from "probot";
import { createApp, type JitApp } from "../src/app.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { freePort } from "../testkit/redis-server.js";
import { memoryProvider, throttleConnection } from "../testkit/replica.js";
import { redisAvailability, RedisServer } from "./helpers/redis.js";

/**
 * /healthz, /readyz and /metrics on Probot's own HTTP server, beside its webhook route, as
 * `probot run` serves them: real HTTP on a free port, the in-memory GitHub behind Probot's fetch.
 */
const availability = redisAvailability();
const describeRedis = "bin" in availability ? describe : describe.skip;
const APP_ID = 31;
const SECRET = "webhook-secret-never-shown";
const REDIS_PASSWORD = "redis-password-never-shown";
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
const NoRetryOctokit = ProbotOctokit.defaults((o: Record<string, any>) => ({ ...o, retry: { ...o.retry, enabled: false } }));

async function serve(fake: FakeGitHub, fetch: typeof globalThis.fetch, redisUrl?: string): Promise<{ server: { stop(): Promise<void> }; app: JitApp; base: string; probot: () => Probot }> {
  const server = new Server({
    host: "127.0.0.1",
    port: await freePort(), // Probot takes 0 for "unset" (3000)
    request: { fetch }, // the Server hands its own `request` to the Probot it makes, over the defaults
    Probot: Probot.defaults({ appId: APP_ID, privateKey, secret: SECRET, logLevel: (process.env.TEST_LOG_LEVEL ?? "fatal") as "fatal", Octokit: NoRetryOctokit, request: { fetch }, ...(redisUrl ? { redisConfig: redisUrl } : {}) }),
  });
  const app = createApp({ appId: APP_ID, providers: () => memoryProvider().provider, sweepSchedule: null, ...(redisUrl ? { redisUrl } : {}) });
  let probot: Probot | undefined;
  await server.load(async (p, options) => {
    probot = p;
    await app(p, options);
  });
  const http = await server.start();
  // Kept-alive client sockets would hold the test process open after the server stops.
  const stop = async () => {
    http.closeAllConnections();
    await server.stop();
  };
  return { server: { stop }, app, base: `http://127.0.0.1:${server.port}`, probot: () => probot! };
}

/** The in-memory GitHub, answering with rate-limit headers as GitHub does. */
function withRateLimit(fake: FakeGitHub): typeof globalThis.fetch {
  let remaining = 5000;
  return (async (input: string | URL, init?: RequestInit) => {
    const response = await fake.fetch(input, init as Parameters<FakeGitHub["fetch"]>[1]);
    const headers = new Headers(response.headers);
    headers.set("x-ratelimit-remaining", String(--remaining));
    headers.set("x-ratelimit-resource", "core");
    const limited = new Response(response.body, { status: response.status, headers });
    Object.defineProperty(limited, "url", { value: response.url });
    return limited;
  }) as typeof globalThis.fetch;
}

/** /healthz once its GitHub check has answered (it never waits for one: a liveness probe must answer at once). */
async function healthOnceChecked(base: string): Promise<{ status: number; body: Record<string, unknown> }> {
  for (;;) {
    const response = await fetch(`${base}/healthz`);
    const body = (await response.json()) as Record<string, unknown>;
    if (body.github !== "checking") return { status: response.status, body };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("service routes without Redis (the embedded default)", () => {
  it("healthz reports GitHub, readyz says this process takes webhooks, metrics are Prometheus text; the webhook route and 404s are Probot's", async () => {
    const fake = new FakeGitHub({ appId: APP_ID });
    accessRepository(fake, ["alice"]);
    const { server, app, base } = await serve(fake, withRateLimit(fake));
    try {
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ ready: true, serving: "serving" });
      expect(await healthOnceChecked(base)).toEqual({ status: 200, body: { status: "ok", serving: "serving", github: "ok", redis: "not configured", throttling: "this process" } });

      // A signed delivery through the real route: it is answered, and its ack time is measured.
      expect((await deliverOpenedRequest(fake, base)).status).toBe(200);
      await app.queue.idle();

      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await metrics.text();
      for (const name of ["jit_ready", "jit_github_up", "jit_alerts_total", "jit_webhook_ack_seconds", "jit_evaluation_duration_seconds", "jit_queue_depth", "jit_live_grants", "jit_expiry_lag_seconds", "jit_provider_errors_total", "jit_github_rate_limit_remaining", "jit_tamper_alerts_total", "jit_leader"]) {
        expect(text).toContain(`# TYPE ${name} `);
      }
      expect(text).toMatch(/^jit_webhook_ack_seconds_count 1$/m);
      expect(text).toMatch(/^jit_evaluation_duration_seconds_count\{outcome="ok"\} 1$/m);
      expect(text).toMatch(/^jit_github_rate_limit_remaining\{installation="4242",resource="core"\} \d+$/m);
      expect(text).toMatch(/^jit_leader 1$/m);
      expect(text).toMatch(/^jit_ready 1$/m);
      expect(text).toMatch(/^jit_github_up 1$/m);
      expect(text).not.toMatch(/^jit_redis_up /m);
      expect(text.split("\n").filter((l) => l && !l.startsWith("#") && !l.startsWith("jit_"))).toEqual([]);

      expect((await fetch(`${base}/nothing-here`)).status).toBe(404);
      expect((await fetch(`${base}/api/github/webhooks`, { method: "POST", headers: { "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": "1", "x-hub-signature-256": "sha256=forged" }, body: "{}" })).status).toBe(400);
    } finally {
      await app.close();
      await server.stop();
    }
  });

  it("readyz stays 200 while GitHub cannot be reached (healthz and jit_github_up say so), and GitHub is asked again no sooner than 30 s later", async () => {
    const fake = new FakeGitHub({ appId: APP_ID });
    let calls = 0;
    const down = (async () => {
      calls++;
      throw new TypeError("fetch failed");
    }) as typeof globalThis.fetch;
    const { server, app, base } = await serve(fake, down);
    try {
      const ready = await fetch(`${base}/readyz`);
      expect([ready.status, await ready.json()]).toEqual([200, { ready: true, serving: "serving" }]);
      expect(await healthOnceChecked(base)).toEqual({ status: 200, body: { status: "ok", serving: "serving", github: "unreachable", redis: "not configured", throttling: "this process" } });
      await fetch(`${base}/healthz`);
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^jit_github_up 0$/m);
      expect(calls).toBe(1);
    } finally {
      await app.close();
      await server.stop();
    }
  });
});

describeRedis("service routes with Redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start((availability as { bin: string }).bin, { password: REDIS_PASSWORD });
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("readyz stays 200 while Redis is down (healthz and jit_redis_up say so, webhooks still answered); nothing shows a secret", async () => {
    const fake = new FakeGitHub({ appId: APP_ID });
    accessRepository(fake, ["alice"]);
    const { server, app, base, probot } = await serve(fake, withRateLimit(fake), redis.url);
    try {
      const up = await healthOnceChecked(base);
      expect(up).toEqual({ status: 200, body: { status: "ok", serving: "serving", github: "ok", redis: "ok", throttling: "shared (Redis)" } });
      const metricsUp = await (await fetch(`${base}/metrics`)).text();
      expect(metricsUp).toMatch(/^jit_redis_up 1$/m);
      expect(metricsUp).toMatch(/^jit_cluster_throttling 1$/m);

      await redis.stop();
      const ready = await fetch(`${base}/readyz`);
      expect([ready.status, await ready.json()]).toEqual([200, { ready: true, serving: "serving" }]);
      const down = await fetch(`${base}/healthz`);
      const downText = await down.text();
      expect([down.status, JSON.parse(downText)]).toEqual([200, { status: "ok", serving: "serving", github: "ok", redis: "unreachable", throttling: "off while Redis is unreachable" }]);
      expect((await deliverOpenedRequest(fake, base)).status).toBe(200);
      const metricsDown = await (await fetch(`${base}/metrics`)).text();
      expect(metricsDown).toMatch(/^jit_redis_up 0$/m);
      for (const text of [metricsUp, metricsDown, downText]) {
        for (const secret of [SECRET, REDIS_PASSWORD, "PRIVATE KEY", privateKey.split("\n")[1]!]) expect(text).not.toContain(secret);
      }
      await redis.restart();
    } finally {
      await app.close();
      await (await throttleConnection(probot()))?.disconnect(false);
      await server.stop();
    }
  });
});

/** alice opens a request; its `opened` delivery goes through the real webhook route, signed with the app's secret. */
async function deliverOpenedRequest(fake: FakeGitHub, base: string): Promise<Response> {
  await openRequest(fake.as("alice"), ref, { branch: "req", path: "grants/prod-admins/alice.yaml", content: "requester: alice\n" });
  const opened = fake.deliveries[0]!;
  const body = JSON.stringify(opened.payload);
  return fetch(`${base}/api/github/webhooks`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": opened.name, "x-github-delivery": opened.id, "x-hub-signature-256": await sign(SECRET, body) },
    body,
  });
}
