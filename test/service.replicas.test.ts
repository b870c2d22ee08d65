import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref, seedLiveGrant } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { memoryProvider, startReplica, throttleConnection, type Replica } from "../testkit/replica.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { readState } from "../src/lifecycle/codec.js";
import { redisAvailability, RedisServer } from "./helpers/redis.js";

/**
 * Replicas as deployed (docs/operations/replicas.md): two Probot apps sharing one real redis-server, against one
 * stateful in-memory GitHub, Probot's cluster-wide throttling on. What counts is what reaches the
 * provider and what the record says.
 */
const availability = redisAvailability();
const describeRedis = "bin" in availability ? describe : describe.skip;
const APP_ID = 77;

describeRedis("replicas sharing Redis", () => {
  let redis: RedisServer;
  const replicas: Replica[] = [];
  const replica = async (...args: Parameters<typeof startReplica>) => {
    const r = await startReplica(...args);
    replicas.push(r);
    return r;
  };

  beforeAll(async () => {
    redis = await RedisServer.start((availability as { bin: string }).bin);
  });
  beforeEach(() => resetLiveGrantCaches());
  // Each test's replicas stop with it (the next test's must not find a leader already there).
  afterEach(async () => {
    for (const r of replicas) await r.app.close({ handOver: true });
  });
  // Probot's throttling connections last until the end: its limiter groups are process-wide.
  afterAll(async () => {
    try {
      for (const r of replicas) await (await throttleConnection(r.probot))?.disconnect(false);
    } finally {
      await redis?.stop();
    }
  });

  it("the same merge delivered to both replicas applies the grant once and records it once", async () => {
    const fake = new FakeGitHub({ appId: APP_ID });
    accessRepository(fake, ["alice", "bob"]);
    fake.addMember("acme/platform", "bob");
    const number = (await openRequest(fake.as("alice"), ref, { branch: "req", path: "grants/prod-admins/alice.yaml", content: grantFile("alice") }))!;
    await fake.as("bob").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
    await fake.as("alice").rest.pulls.merge({ ...ref, pull_number: number, merge_method: "squash" });
    const merged = fake.deliveries.find((d) => d.name === "pull_request" && d.action === "closed")!;

    const memory = memoryProvider();
    const [a, b] = [await replica(fake, { redisUrl: redis.url, provider: memory.provider }), await replica(fake, { redisUrl: redis.url, provider: memory.provider })];
    await Promise.all([a.receive(merged), b.receive(merged), a.receive(merged), b.receive(merged)]);
    await Promise.all([a.settled(), b.settled()]);

    expect(memory.applies.map((x) => x.id)).toEqual([`repo:${fake.repo("acme", "access")!.id}#${number}`]);
    const pull = fake.pull("acme/access", number);
    const record = fake.repos.get("acme/access")!.checkRuns.filter((r) => r.headSha === pull.headSha && r.appId === APP_ID);
    expect(readState(record.at(-1)!.output.text)).toMatchObject({ status: "APPROVED", applied_at: expect.any(String) });
    // One window: every text the record ever held agrees on when the grant was applied.
    const applied = new Set(record.flatMap((r) => r.history).map((h) => readState(h.text)?.applied_at).filter(Boolean));
    expect(applied.size).toBe(1);
    expect(pull.labels).toEqual(["jit:approved"]);
    expect(pull.comments.filter((c) => c.appId === APP_ID)).toHaveLength(1);
    // Probot's throttling really is cluster-wide: Bottleneck keeps its limiters in this Redis.
    expect((await redis.keys("b_octokit-*")).length).toBeGreaterThan(0);
  });

  it("the leader is killed mid-window: the other replica takes over and revokes within 1 s of expires_at", async () => {
    const fake = new FakeGitHub({ appId: APP_ID });
    accessRepository(fake, ["carol"]);
    // Expires 12 s after the leader dies: the scheduler reads a grant 10 s before it is due, so the
    // leader has not started on it; the other replica must take over (≤ 7 s) and do it all.
    const dies = Date.now() + 3_000;
    const expiresAt = new Date(Math.ceil((dies + 12_000) / 1000) * 1000);
    const number = await seedLiveGrant(fake, "carol", { appliedAt: new Date(), expiresAt }, "memory");
    const memory = memoryProvider();
    memory.held.add("member:prod-admins:carol");
    // Production lease timings (6 s lease, renewed every 2 s, polled every 1 s).
    const a = await replica(fake, { redisUrl: redis.url, provider: memory.provider });
    await until(() => a.app.cluster?.role === "leader");
    const b = await replica(fake, { redisUrl: redis.url, provider: memory.provider });
    await until(() => a.app.scheduler.index.size === 1);
    await sleepUntil(dies);
    expect(b.app.cluster?.role).toBe("follower");
    await a.app.close({ handOver: false }); // as a crash: its lease is left to expire

    await until(() => memory.revokes.length > 0, 20_000);
    await b.settled();
    const lag = memory.revokes[0]!.at.getTime() - expiresAt.getTime();
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(1_000);
    expect(b.app.cluster?.role).toBe("leader");
    expect(memory.revokes).toHaveLength(1);
    expect(memory.held.has("member:prod-admins:carol")).toBe(false);
    const pull = fake.pull("acme/access", number);
    const record = fake.repos.get("acme/access")!.checkRuns.filter((r) => r.headSha === pull.headSha && r.appId === APP_ID).at(-1)!;
    expect(readState(record.output.text)).toMatchObject({ status: "EXECUTED" });
    expect(await b.app.metrics.text()).toMatch(/^jit_expiry_lag_seconds_count 1$/m);
  }, 90_000);

  it("Redis stops while grants are live: revokes still happen, nothing is applied without a lock, and the apply waits for Redis", async () => {
    const fake = new FakeGitHub({ appId: APP_ID });
    accessRepository(fake, ["dave", "erin", "frank", "bob"]);
    fake.addMember("acme/platform", "bob");
    const memory = memoryProvider();
    const now = Date.now();
    const expiries = [new Date(Math.ceil((now + 4_000) / 1000) * 1000), new Date(Math.ceil((now + 9_000) / 1000) * 1000)];
    const live = [await seedLiveGrant(fake, "dave", { appliedAt: new Date(), expiresAt: expiries[0]! }, "memory"), await seedLiveGrant(fake, "erin", { appliedAt: new Date(), expiresAt: expiries[1]! }, "memory")];
    for (const who of ["dave", "erin"]) memory.held.add(`member:prod-admins:${who}`);
    const request = (await openRequest(fake.as("frank"), ref, { branch: "req-frank", path: "grants/prod-admins/frank.yaml", content: grantFile("frank") }))!;
    await fake.as("bob").rest.pulls.createReview({ ...ref, pull_number: request, event: "APPROVE" });

    const timings = { ttlMs: 1_500, renewMs: 300, pollMs: 200, aloneAfterMs: 1_500 };
    const a = await replica(fake, { redisUrl: redis.url, provider: memory.provider, app: { cluster: timings } });
    await until(() => a.app.cluster?.role === "leader" && a.app.scheduler.index.size === 2);
    const b = await replica(fake, { redisUrl: redis.url, provider: memory.provider, app: { cluster: timings } });
    await until(() => b.app.cluster?.role === "follower");

    await redis.stop();
    // Merged during the outage, delivered to both: neither may apply it without a lock.
    await fake.as("frank").rest.pulls.merge({ ...ref, pull_number: request, merge_method: "squash" });
    const merged = fake.deliveries.filter((d) => d.name === "pull_request" && d.action === "closed").at(-1)!;
    await Promise.all([a.receive(merged), b.receive(merged)]);
    await until(() => a.app.cluster?.role === "alone" && b.app.cluster?.role === "alone");

    // Both schedulers run; each live grant is revoked, at its expires_at (the outage lasts past both).
    await until(() => live.every((n) => memory.revokes.some((r) => r.id === `acme/access#${n}`)), 20_000);
    for (const [i, n] of live.entries()) {
      const revokes = memory.revokes.filter((r) => r.id === `acme/access#${n}`);
      // Both replicas may revoke while they cannot coordinate (idempotent); never before expires_at.
      expect(revokes.every((r) => r.at >= expiries[i]!)).toBe(true);
    }
    expect(memory.held.has("member:prod-admins:dave") || memory.held.has("member:prod-admins:erin")).toBe(false);
    expect(memory.applies).toEqual([]);
    expect(fake.pull("acme/access", request).merged).toBe(true);

    // Redis is back, empty: one leader again, and each replica knows Probot's throttling state is
    // gone (Bottleneck cannot rebuild it under Redis 7). The request's next evaluation applies it, once.
    await redis.restart();
    await until(() => [a.app.cluster?.role, b.app.cluster?.role].sort().join() === "follower,leader");
    await until(() => !!a.app.cluster?.throttlingLost && !!b.app.cluster?.throttlingLost);
    await Promise.all([a.receive(merged), b.receive(merged), a.receive(merged), b.receive(merged)]);
    await until(() => memory.applies.length > 0, 20_000);
    await Promise.all([a.settled(), b.settled()]);
    expect(memory.applies.map((x) => x.id)).toEqual([`repo:${fake.repo("acme", "access")!.id}#${request}`]);
    expect(memory.held.has("member:prod-admins:frank")).toBe(true);
  }, 90_000);
});

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function sleepUntil(at: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
}

function grantFile(requester: string): string {
  return `requester: ${requester}\nresource: prod-admins\nrole: member\nduration: 2h\nreason: "Investigate INC-4211"\n`;
}
