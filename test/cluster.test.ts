import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Redis } from "ioredis";
import { LeaderLease, type Role } from "../src/cluster/leader.js";
import { LockLostError, NO_LOCK_MESSAGE, RequestLocks, type Fence } from "../src/cluster/locks.js";
import { currentFence, runFenced } from "../src/cluster/fence.js";
import { NO_PERSON_LOCK_MESSAGE, PersonLocks } from "../src/cluster/person-locks.js";
import { connectRedis } from "../src/cluster/redis.js";
import { ProviderError } from "../src/providers/types.js";
import { redisAvailability, RedisServer } from "./helpers/redis.js";

/**
 * The coordination primitives against a real redis-server: request locks with their fence, and
 * the scheduler lease. Timings are shortened; no assertion depends on how fast anything runs.
 */
const availability = redisAvailability();
const describeRedis = "bin" in availability ? describe : describe.skip;
const quiet = { info() {}, warn() {} };

describeRedis("request locks and the scheduler lease, on a real Redis", () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const client = () => {
    const c = connectRedis(server.url, quiet);
    clients.push(c);
    return c;
  };
  const ready = (c: Redis) => new Promise<void>((resolve) => (c.status === "ready" ? resolve() : c.once("ready", () => resolve())));

  beforeAll(async () => {
    server = await RedisServer.start((availability as { bin: string }).bin);
  });
  afterAll(async () => {
    try {
      await Promise.all(clients.map(closeRedis));
    } finally {
      await server?.stop();
    }
  });

  it("two replicas' jobs for one request never overlap; different requests run side by side", async () => {
    const [a, b] = [client(), client()];
    await Promise.all([ready(a), ready(b)]);
    const locksA = new RequestLocks(a, { ttlMs: 2_000, waitMs: 10_000, retryMs: 20 });
    const locksB = new RequestLocks(b, { ttlMs: 2_000, waitMs: 10_000, retryMs: 20 });
    const running = new Set<string>();
    const overlaps: string[][] = [];
    const job = (name: string, key: string) => async (fence: Fence) => {
      expect(fence.locked).toBe(true);
      const same = [...running].filter((r) => r.startsWith(key));
      if (same.length) overlaps.push([name, ...same]);
      running.add(`${key} ${name}`);
      await new Promise((r) => setTimeout(r, 50));
      await fence.check("apply");
      running.delete(`${key} ${name}`);
    };
    const both = await Promise.all([
      locksA.run("acme/access#1", job("a", "acme/access#1")),
      locksB.run("acme/access#1", job("b", "acme/access#1")),
      locksB.run("acme/access#2", job("c", "acme/access#2")),
    ]);
    expect(both).toHaveLength(3);
    expect(overlaps).toEqual([]);
  });

  it("a job whose lock was taken over is refused at its next effect, and every one after it", async () => {
    const c = client();
    await ready(c);
    const locks = new RequestLocks(c, { ttlMs: 5_000, waitMs: 1_000, retryMs: 20 });
    const admin = client();
    await ready(admin);
    const outcomes: string[] = [];
    await locks.run("acme/access#3", async (fence) => {
      await fence.check("write");
      outcomes.push("write before");
      // Another holder now (as after an expiry during a long pause): the value in Redis is not ours.
      await admin.set("jit-access:lock:acme/access#3", "someone-else", "PX", 5_000);
      for (const effect of ["revoke", "write", "apply"] as const) {
        await fence.check(effect).then(
          () => outcomes.push(`${effect} allowed`),
          (error: unknown) => outcomes.push(`${effect} ${error instanceof LockLostError ? "refused: lock lost" : String(error)}`),
        );
      }
    });
    expect(outcomes).toEqual(["write before", "revoke refused: lock lost", "write refused: lock lost", "apply refused: lock lost"]);
    // Release never deletes a lock that is no longer ours.
    expect(await admin.get("jit-access:lock:acme/access#3")).toBe("someone-else");
  });

  it("a second replica waits for the lock, and gives up (the job fails, to be retried) when it is held too long", async () => {
    const [a, b] = [client(), client()];
    await Promise.all([ready(a), ready(b)]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = new RequestLocks(a, { ttlMs: 2_000, waitMs: 10_000, retryMs: 20 }).run("acme/access#4", () => held);
    await new Promise((r) => setTimeout(r, 50));
    let ran = false;
    await expect(new RequestLocks(b, { ttlMs: 2_000, waitMs: 200, retryMs: 20 }).run("acme/access#4", async () => void (ran = true))).rejects.toThrow(/stayed with another replica/);
    expect(ran).toBe(false);
    release();
    await first;
  });

  it("without Redis a job runs unlocked: revokes and writes go ahead, an apply is refused with a message for the request", async () => {
    const dead = connectRedis("redis://127.0.0.1:1", quiet); // nothing listens on port 1
    clients.push(dead);
    const locks = new RequestLocks(dead, { ttlMs: 2_000, waitMs: 1_000, retryMs: 20 });
    const seen: string[] = [];
    await locks.run("acme/access#5", async (fence) => {
      seen.push(`locked=${fence.locked}`);
      await fence.check("revoke");
      await fence.check("write");
      const refused = await fence.check("apply").catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ProviderError);
      expect((refused as Error).message).toBe(NO_LOCK_MESSAGE);
    });
    expect(seen).toEqual(["locked=false"]);
  });

  it("a person's section is fenced by its request's lock and its own: taken over mid-section, it stops before its next write", async () => {
    const c = client();
    const admin = client();
    await Promise.all([ready(c), ready(admin)]);
    const locks = new RequestLocks(c, { ttlMs: 5_000, waitMs: 1_000, retryMs: 20 });
    const person = new PersonLocks(new RequestLocks(c, { ttlMs: 5_000, waitMs: 1_000, retryMs: 20 }));
    const outcomes: string[] = [];
    await locks.run("acme/access#6", (request) =>
      runFenced(request, () =>
        person.run("person:9001:501", "apply", async () => {
          const fence = currentFence()!;
          expect(fence).not.toBe(request);
          expect(fence.locked).toBe(true);
          await fence.check("write");
          outcomes.push("write before");
          await admin.set("jit-access:lock:person:9001:501", "another-replica", "PX", 5_000);
          for (const effect of ["write", "apply"] as const) {
            await fence.check(effect).then(
              () => outcomes.push(`${effect} allowed`),
              (error: unknown) => outcomes.push(`${effect} ${error instanceof LockLostError ? "refused: lock lost" : String(error)}`),
            );
          }
        }),
      ),
    );
    expect(outcomes).toEqual(["write before", "write refused: lock lost", "apply refused: lock lost"]);
    expect(await admin.get("jit-access:lock:person:9001:501")).toBe("another-replica");
    // The request's own lock is checked in the section too: lost, the section may not write either.
    await locks.run("acme/access#8", (request) =>
      runFenced(request, () =>
        person.run("person:9001:502", "revoke", async () => {
          await admin.set("jit-access:lock:acme/access#8", "another-replica", "PX", 5_000);
          await expect(currentFence()!.check("write")).rejects.toBeInstanceOf(LockLostError);
        }),
      ),
    );
  });

  it("two replicas' sections for one person never overlap", async () => {
    const [a, b] = [client(), client()];
    await Promise.all([ready(a), ready(b)]);
    const options = { ttlMs: 2_000, waitMs: 10_000, retryMs: 20 };
    const [pa, pb] = [new PersonLocks(new RequestLocks(a, options)), new PersonLocks(new RequestLocks(b, options))];
    let inside = 0;
    let most = 0;
    const section = async () => {
      most = Math.max(most, ++inside);
      await new Promise((r) => setTimeout(r, 30));
      inside--;
    };
    await Promise.all([pa.run("person:9001:503", "apply", section), pb.run("person:9001:503", "revoke", section), pa.run("person:9001:503", "revoke", section)]);
    expect(most).toBe(1);
  });

  it("without Redis a person's apply does not start (fails closed, retryable); a revoke goes ahead unlocked", async () => {
    const dead = connectRedis("redis://127.0.0.1:1", quiet);
    clients.push(dead);
    const person = new PersonLocks(new RequestLocks(dead, { ttlMs: 2_000, waitMs: 1_000, retryMs: 20 }));
    let applied = false;
    const refused = await person.run("person:9001:504", "apply", async () => void (applied = true)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderError);
    expect((refused as ProviderError).message).toBe(NO_PERSON_LOCK_MESSAGE);
    expect((refused as ProviderError).retryable).toBe(true);
    expect(applied).toBe(false);
    const locked = await person.run("person:9001:504", "revoke", async () => currentFence()?.locked);
    expect(locked).toBe(false);
  });

  it("one leader at a time; when it dies without handing over, the other takes the lease once it expires", async () => {
    const options = { ttlMs: 600, renewMs: 150, pollMs: 100, aloneAfterMs: 600 };
    const roles: Record<string, Role[]> = { a: [], b: [] };
    const a = new LeaderLease(client(), options, (r) => roles.a!.push(r));
    const b = new LeaderLease(client(), options, (r) => roles.b!.push(r));
    a.start();
    await until(() => a.role === "leader");
    b.start();
    await new Promise((r) => setTimeout(r, 1_000)); // several renewals and polls
    expect([a.role, b.role]).toEqual(["leader", "follower"]);
    await a.stop({ handOver: false }); // dies: its lease stays until it expires
    await until(() => b.role === "leader");
    expect(roles.a).toEqual(["leader"]);
    expect(roles.b).toEqual(["leader"]);
    await b.stop({ handOver: true });
    expect(await clients[0]!.exists("jit-access:scheduler-leader")).toBe(0);
  });

  it("a follower that cannot reach Redis for a lease's length runs alone; when Redis is back, one leader again", async () => {
    const options = { ttlMs: 600, renewMs: 150, pollMs: 100, aloneAfterMs: 600 };
    const own = await RedisServer.start((availability as { bin: string }).bin);
    try {
      const [ca, cb] = [connectRedis(own.url, quiet), connectRedis(own.url, quiet)];
      clients.push(ca, cb);
      await Promise.all([ready(ca), ready(cb)]);
      const a = new LeaderLease(ca, options, () => {});
      const b = new LeaderLease(cb, options, () => {});
      a.start();
      await until(() => a.role === "leader");
      b.start();
      await until(() => b.role === "follower");
      await own.stop();
      await until(() => a.role === "alone" && b.role === "alone");
      await own.restart();
      await until(() => [a.role, b.role].sort().join() === "follower,leader");
      await Promise.all([a.stop({ handOver: true }), b.stop({ handOver: true })]);
    } finally {
      await own.stop();
    }
  });
});

async function closeRedis(c: Redis): Promise<void> {
  c.disconnect();
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
