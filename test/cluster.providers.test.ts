import { describe, expect, it } from "@jest/globals";
import { runFenced } from "../src/cluster/fence.js";
import { guardedProviders } from "../src/cluster/instrument.js";
import { UNLOCKED, type Fence } from "../src/cluster/locks.js";
import { memoryProvider } from "../testkit/replica.js";
import { Metrics } from "../src/metrics.js";
import { ProviderError, type GrantTarget } from "../src/providers/types.js";
import type { GitHub } from "../src/github/client.js";

/** The provider wrapper every evaluation uses: fence, apply margin, metrics. No Redis needed. */
const now = new Date("2026-11-29T15:00:00Z");
const target = (expiresAt: string): GrantTarget => ({
  id: "acme/access#7", requester: "alice", resource: "prod-admins", role: "member", provider: "memory",
  config: {}, grant: {}, startsAt: "2026-11-29T13:00:00Z", expiresAt, pullRequest: "https://github.com/acme/access/pull/7",
});
const metrics = () => new Metrics({ clustered: true, queueDepth: () => 0, leader: () => true, schedulerActive: () => true, redisUp: () => true, sharedThrottling: () => true });
const locked: Fence = { locked: true, check: async () => {} };

describe("providers behind the fence", () => {
  it("never applies without a lock; revokes without one (idempotent), and measures the lag of an expiry", async () => {
    const memory = memoryProvider(() => now);
    const m = metrics();
    const provider = guardedProviders(() => memory.provider, m, () => now, 30_000)("memory", {} as GitHub)!;
    await expect(runFenced(UNLOCKED, () => provider.apply(target("2026-11-29T17:00:00Z")))).rejects.toBeInstanceOf(ProviderError);
    expect(memory.applies).toEqual([]);
    await runFenced(UNLOCKED, () => provider.revoke(target("2026-11-29T14:59:58.500Z"), ["member:prod-admins:alice"]));
    expect(memory.revokes).toHaveLength(1);
    expect(await m.text()).toMatch(/^jit_expiry_lag_seconds_sum 1\.5$/m);
  });

  it("refuses an apply in the last lock-length of its window, even under a lock; applies before that", async () => {
    const memory = memoryProvider(() => now);
    const m = metrics();
    const provider = guardedProviders(() => memory.provider, m, () => now, 30_000)("memory", {} as GitHub)!;
    await expect(runFenced(locked, () => provider.apply(target("2026-11-29T15:00:20Z")))).rejects.toThrow(/less than 30 s of the window/);
    await runFenced(locked, () => provider.apply(target("2026-11-29T15:00:40Z")));
    expect(memory.applies.map((a) => a.id)).toEqual(["acme/access#7"]);
    // A refusal of the fence is not the provider's error; a failing provider is counted.
    expect(await m.text()).not.toMatch(/^jit_provider_errors_total\{/m);
    const failing = guardedProviders(() => ({ ...memory.provider, revoke: async () => Promise.reject(new Error("down")) }), m, () => now)("memory", {} as GitHub)!;
    await expect(failing.revoke(target("2026-11-29T15:00:00Z"), [])).rejects.toThrow("down");
    expect(await m.text()).toMatch(/^jit_provider_errors_total\{provider="memory"\} 1$/m);
  });
});
