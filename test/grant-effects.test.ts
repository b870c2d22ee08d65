import { describe, expect, it } from "@jest/globals";
import type { GitHub } from "../src/github/client.js";
import { applyGrant, revokeGrant } from "../src/github/grant-effects.js";
import type { LiveGrant } from "../src/github/live-grants.js";
import { personKey } from "../src/github/person-lock.js";
import type { RequestSnapshot } from "../src/lifecycle/snapshot.js";
import type { GrantTarget } from "../src/providers/types.js";
import { memoryProvider } from "../testkit/replica.js";

/** The apply's critical section, alone (no GitHub): what it reads, in which order it matters. */
const now = new Date("2026-11-29T15:00:00Z");
const target = (n: number, expiresAt: string): GrantTarget => ({
  id: `acme/access#${n}`, requester: "alice", requesterId: 501, resource: "prod-admins", role: "member", provider: "memory",
  config: {}, grant: {}, startsAt: "2026-11-29T13:00:00Z", expiresAt, pullRequest: `https://github.com/acme/access/pull/${n}`,
});
const snapshot = { owner: "acme", repo: "access", repoId: 9001, defaultBranch: "main", pr: { number: 2, authorId: 501 }, record: undefined, kind: { kind: "request", file: { path: "grants/prod-admins/alice-2.yaml" } } } as unknown as RequestSnapshot;
const quiet = { info() {}, warn() {}, error() {} };

describe("a person's turn", () => {
  it("is the same person by repository id and user id, whatever the names; another id is another person", () => {
    const key = personKey({ owner: "acme", repo: "access", repoId: 9001 }, { requester: "alice", requesterId: 501 });
    expect(personKey({ owner: "acme", repo: "access-renamed", repoId: 9001 }, { requester: "Alice-Renamed", requesterId: 501 })).toBe(key);
    expect(personKey({ owner: "acme", repo: "access", repoId: 9001 }, { requester: "alice", requesterId: 777 })).not.toBe(key);
    expect(personKey({ owner: "Acme", repo: "Access" }, { requester: "Alice" })).toBe("person:acme/access:alice");
  });

  it("an apply beside a revoke that runs without the shared lock (Redis cut off) never takes the revoked unit for standing access", async () => {
    // Grant A (#1) of the same unit has expired; its revoke runs, in no turn of this apply's, right
    // after whichever of the apply's two reads (other grants, what is held) comes first.
    const memory = memoryProvider(() => now);
    const unit = "member:prod-admins:alice";
    memory.held.add(unit);
    const a: LiveGrant = { number: 1, path: "grants/prod-admins/alice.yaml", target: target(1, "2026-11-29T14:59:00Z"), standing: [], expiresAt: "2026-11-29T14:59:00Z" };
    let aLive = true;
    let reads = 0;
    const revokeAAfterFirstRead = () => {
      if (++reads !== 1) return;
      memory.held.delete(unit);
      aLive = false;
    };
    const provider = {
      ...memory.provider,
      held: async (t: GrantTarget) => {
        const held = await memory.provider.held(t);
        revokeAAfterFirstRead();
        return held;
      },
    };
    const recorded: string[][] = [];
    const outcome = await applyGrant({} as GitHub, snapshot, { target: target(2, "2026-11-29T17:00:00Z"), standing: undefined, warnBeforeMs: 0 }, {
      fresh: async () => undefined,
      holding: async (standing) => void recorded.push(standing),
    }, {
      appId: 1, now: () => now, providers: () => provider, log: quiet,
      liveGrants: async () => {
        const others = aLive ? [a] : [];
        revokeAAfterFirstRead();
        return others;
      },
    });
    expect(outcome).toMatchObject({ kind: "applied", standing: [] });
    expect(recorded).toEqual([[]]);
    expect(memory.held.has(unit)).toBe(true);
  });

  it("reads the grant's record and the person's other grants together, in an apply and in a revoke, and what is held after both", async () => {
    // Neither read needs the other: the apply (and the revoke) does not wait for one round trip more.
    const steps: string[] = [];
    const read = async <T>(name: string, value: T): Promise<T> => {
      steps.push(`${name}:start`);
      await new Promise((r) => setImmediate(r));
      steps.push(`${name}:end`);
      return value;
    };
    const memory = memoryProvider(() => now);
    const provider = { ...memory.provider, held: async (t: GrantTarget) => read("held", await memory.provider.held(t)) };
    const options = { appId: 1, now: () => now, providers: () => provider, log: quiet, liveGrants: () => read("others", [] as LiveGrant[]) };
    const started = (names: string[]) => names.every((n) => steps.indexOf(`${n}:start`) < Math.min(...names.map((m) => steps.indexOf(`${m}:end`))));

    const applied = await applyGrant({} as GitHub, snapshot, { target: target(2, "2026-11-29T17:00:00Z"), standing: undefined, warnBeforeMs: 0 }, { fresh: () => read("record", undefined), holding: async () => {} }, options);
    expect(applied).toMatchObject({ kind: "applied", standing: [] });
    expect(started(["record", "others"])).toBe(true);
    expect(steps.indexOf("held:start")).toBeGreaterThan(steps.indexOf("others:end")); // the others before what is held, still

    steps.length = 0;
    const revoked = await revokeGrant({} as GitHub, snapshot, { type: "revoke", target: target(2, "2026-11-29T17:00:00Z"), standing: [], end: { status: "EXECUTED", endedBy: "expiry", revert: false }, revert: undefined }, { fresh: () => read("record", undefined), ended: async () => {} }, options);
    expect(revoked).toMatchObject({ kind: "revoked" });
    expect(started(["record", "others"])).toBe(true);
    expect(memory.held.size).toBe(0);
  });
});
