import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { ProcessTurns, type PersonLock } from "../src/github/person-lock.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { readState } from "../src/lifecycle/codec.js";
import type { Provider } from "../src/providers/types.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref, seedLiveGrant } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { memoryProvider, startReplica, throttleConnection, type Replica } from "../testkit/replica.js";
import { fixedClock } from "./helpers/app.js";
import { redisAvailability, RedisServer } from "./helpers/redis.js";

/**
 * One person's two grants of one unit, on two replicas sharing a real redis-server: replica 1
 * applies grant B while replica 2 revokes grant A, which has expired. Replica 2's revoke is held
 * inside its critical section (it has read the person's other grants, and not yet removed the
 * unit) until replica 1 has either applied B — the sections overlapped — or found the person's lock
 * held and waited for it. Only the second leaves B's access in place.
 */
const availability = redisAvailability();
const describeRedis = "bin" in availability ? describe : describe.skip;
const APP_ID = 78;
const UNIT = "member:prod-admins:alice";
const B_PATH = "grants/prod-admins/alice-2.yaml";

describeRedis("a person's apply and revoke on two replicas", () => {
  let redis: RedisServer;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start((availability as { bin: string }).bin);
  });
  beforeEach(() => resetLiveGrantCaches());
  afterEach(async () => {
    for (const r of replicas) await r.app.close({ handOver: true });
  });
  afterAll(async () => {
    try {
      for (const r of replicas) await (await throttleConnection(r.probot))?.disconnect(false);
    } finally {
      await redis?.stop();
    }
  });

  /** Runs the scenario; `personLock` replaces each replica's person lock (the control). */
  async function applyBesideRevoke(personLock?: () => PersonLock) {
    const start = new Date("2026-11-29T13:00:00Z");
    const clock = fixedClock(start);
    const fake = new FakeGitHub({ appId: APP_ID, now: () => clock.now() });
    accessRepository(fake, ["alice", "bob"]);
    fake.addMember("acme/platform", "bob");
    const a = await seedLiveGrant(fake, "alice", { appliedAt: new Date(start.getTime() - 3_600_000), expiresAt: new Date(start.getTime() + 60_000) });
    const mergedA = fake.deliveries.filter((d) => d.name === "pull_request" && d.action === "closed").at(-1)!;
    const b = (await openRequest(fake.as("alice"), ref, { branch: "req-b", path: B_PATH, content: "requester: alice\nresource: prod-admins\nrole: member\nduration: 2h\nreason: \"Investigate INC-4211\"\n" }))!;
    await fake.as("bob").rest.pulls.createReview({ ...ref, pull_number: b, event: "APPROVE" });
    const reviewed = fake.deliveries.filter((d) => d.name === "pull_request_review").at(-1)!;

    const memory = memoryProvider(() => clock.now());
    memory.held.add(UNIT); // given by A
    let revoking!: () => void;
    const revokeEntered = new Promise<void>((r) => (revoking = r));
    let proceed!: () => void;
    const mayRevoke = new Promise<void>((r) => (proceed = r));
    // Replica 2's revoke of A waits, inside its section, for the test's word.
    const slowRevoke: Provider = {
      ...memory.provider,
      revoke: async (t, units) => {
        if (t.id === `acme/access#${a}`) {
          revoking();
          await mayRevoke;
        }
        await memory.provider.revoke(t, units);
      },
    };
    const options = (provider: Provider) => ({
      redisUrl: redis.url,
      provider,
      throttle: false,
      app: { clock, cluster: { retryMs: 20 }, ...(personLock ? { personLock: personLock() } : {}) },
    });
    const one = await startReplica(fake, options(memory.provider));
    const two = await startReplica(fake, options(slowRevoke));
    replicas.push(one, two);
    await until(() => [one, two].some((r) => r.app.cluster?.role === "leader"));

    // A has expired: replica 2 starts its revoke and stops inside it. Then B's approval reaches
    // replica 1, which merges B and applies it.
    clock.set(new Date(start.getTime() + 120_000));
    let waits = 0;
    try {
      await two.receive(mergedA);
      await revokeEntered;
      await one.receive(reviewed);
      const personWaits = async () => (await one.app.metrics.lockWaits.get()).values.find((v) => v.labels.lock === "person")?.value ?? 0;
      await until(async () => memory.applies.length > 0 || (waits = await personWaits()) > 0);
    } finally {
      proceed();
    }
    await Promise.all([one.settled(), two.settled()]);

    const record = (number: number) => {
      const pull = fake.pull("acme/access", number);
      const run = fake.repos.get("acme/access")!.checkRuns.filter((r) => r.headSha === pull.headSha && r.appId === APP_ID).at(-1)!;
      return readState(run.output.text)!;
    };
    return { memory, waits, b, recordA: record(a), recordB: record(b) };
  }

  it("take turns: B's unit stays while B is live, A's end is recorded, and B's standing is not A's unit", async () => {
    const { memory, waits, b, recordA, recordB } = await applyBesideRevoke();
    expect(recordA.status).toBe("EXECUTED");
    expect(recordB.status).toBe("APPROVED");
    expect(memory.held.has(UNIT)).toBe(true);
    expect(recordB.standing ?? []).not.toContain(UNIT);
    // Replica 1 really found the lock held by replica 2 (and was not, say, merely slower).
    expect(waits).toBeGreaterThan(0);
    expect(memory.applies.map((x) => x.id)).toEqual([expect.stringMatching(new RegExp(`^repo:\\d+#${b}$`))]);
  }, 60_000);

  it("control: with only each replica's own turn (the lock of a single process), the same interleaving takes B's unit away while B is live", async () => {
    const { memory, waits, recordA, recordB } = await applyBesideRevoke(() => new ProcessTurns());
    expect(recordA.status).toBe("EXECUTED");
    expect(recordB.status).toBe("APPROVED");
    expect(waits).toBe(0);
    expect(memory.held.has(UNIT)).toBe(false);
  }, 60_000);
});

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
