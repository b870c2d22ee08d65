import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref, seedLiveGrant } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { findRedisServer, RedisServer } from "../testkit/redis-server.js";
import { memoryProvider, startReplica, throttleConnection, type Replica } from "../testkit/replica.js";
import { summarize } from "./stats.js";

/**
 * Two replicas and one redis-server (docs/operations/replicas.md), the in-memory GitHub answering each request
 * in `latencyMs`: 100 merged requests, each merge delivered to both replicas (200 deliveries), in
 * the very second 100 live grants expire. Every apply and revoke must happen exactly once; the
 * revoke lag is measured at the provider. Probot's throttling is off here (it would space GitHub
 * writes 1 s apart and measure that instead); everything else runs as deployed.
 */
export async function benchReplicas(latencyMs = 2, n = 100): Promise<string[]> {
  const bin = findRedisServer();
  if (!bin) return ["skipped: redis-server not found (Debian: apt-get install -y redis-server)"];
  const redis = await RedisServer.start(bin);
  const fake = new FakeGitHub({ appId: 1 });
  const memory = memoryProvider();
  const replicas: Replica[] = [];
  try {
    const requesters = Array.from({ length: n }, (_, i) => `req${i}`);
    const holders = Array.from({ length: n }, (_, i) => `live${i}`);
    accessRepository(fake, [...requesters, ...holders, "approver"]);
    fake.addMember("acme/platform", "approver");
    resetLiveGrantCaches();
    // Time to set everything up, then a whole second beyond the scheduler's 10 s lead.
    const expiry = new Date(Math.ceil((Date.now() + 45_000) / 1000) * 1000);
    for (const who of holders) {
      await seedLiveGrant(fake, who, { appliedAt: new Date(), expiresAt: expiry }, "memory");
      memory.held.add(`member:prod-admins:${who}`);
    }
    const requests: number[] = [];
    for (const who of requesters) {
      requests.push((await openRequest(fake.as(who), ref, { branch: `req-${who}`, path: `grants/prod-admins/${who}.yaml`, content: `requester: ${who}\nresource: prod-admins\nrole: member\nduration: 2h\nreason: "Benchmark request of ${who}"\n` }))!);
    }
    for (let i = 0; i < 2; i++) replicas.push(await startReplica(fake, { redisUrl: redis.url, provider: memory.provider, throttle: false }));
    // Approved and merged by people (the app would merge them itself once approved) after the
    // leader's start-up rebuild; GitHub's webhooks for the merges are held back until the second
    // of the expiries.
    fake.deliveries.length = 0;
    for (const [i, number] of requests.entries()) {
      await fake.as("approver").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
      await fake.as(requesters[i]!).rest.pulls.merge({ ...ref, pull_number: number, merge_method: "squash" });
    }
    const deliveries = fake.deliveries.filter((d) => d.name === "pull_request" && d.action === "closed" && requests.includes((d.payload as { number: number }).number));
    if (Date.now() > expiry.getTime() - 11_000) return ["the set-up took too long for this machine: no figures"];
    fake.latencyMs = latencyMs;
    await new Promise((r) => setTimeout(r, Math.max(0, expiry.getTime() - Date.now())));

    const started = Date.now();
    await Promise.all(deliveries.flatMap((d) => replicas.map((r) => r.receive(d))));
    const delivered = Date.now() - started;
    const deadline = Date.now() + 180_000;
    while ((memory.applies.length < n || memory.revokes.length < n) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await Promise.all(replicas.map((r) => r.settled()));

    const once = (calls: { id: string }[]) => {
      const per = new Map<string, number>();
      for (const c of calls) per.set(c.id, (per.get(c.id) ?? 0) + 1);
      return { grants: per.size, calls: calls.length, exactlyOnce: [...per.values()].every((k) => k === 1) };
    };
    const applies = once(memory.applies);
    const revokes = once(memory.revokes);
    const lag = summarize(memory.revokes.map((r) => r.at.getTime() - Date.parse(r.expiresAt)));
    return [
      `${deliveries.length * replicas.length} deliveries (${deliveries.length} merges, each to both replicas) in ${delivered} ms, in the second ${n} grants expired; GitHub answering in ${latencyMs} ms a request`,
      `applies: ${applies.calls} calls for ${applies.grants}/${n} requests — ${applies.exactlyOnce && applies.grants === n ? "exactly once each" : "NOT exactly once"}`,
      `revokes: ${revokes.calls} calls for ${revokes.grants}/${n} grants — ${revokes.exactlyOnce && revokes.grants === n ? "exactly once each" : "NOT exactly once"}`,
      `revoke lag from expires_at to the provider: p50 ${lag.median} ms, max ${lag.max} ms`,
      `leader: ${replicas.map((r, i) => `replica ${i + 1} ${r.app.cluster?.role}`).join(", ")}`,
    ];
  } finally {
    for (const r of replicas) await r.app.close();
    for (const r of replicas) await (await throttleConnection(r.probot))?.disconnect(false);
    await redis.stop();
  }
}
