import { describe, expect, it } from "@jest/globals";
import { mayHoldAccess, stillGives } from "../src/github/live-grants.js";
import { standingOf, unitsToRevoke, type GrantTarget, type Provider } from "../src/providers/types.js";

/** A provider whose units are `role:<requester>:<role>` for each role a grant names. */
const roles: Provider = {
  units: (t) => ((t.grant.roles as string[]) ?? []).map((r) => `role:${t.requester}:${r}`),
  held: async () => [],
  apply: async () => {},
  revoke: async () => {},
  describe: () => "roles",
};

function grant(id: number, grantRoles: string[], provider = "postgres"): GrantTarget {
  return {
    id: `acme/access#${id}`, requester: "alice", resource: "prod-db", role: "read-only", provider,
    config: {}, grant: { roles: grantRoles }, startsAt: "", expiresAt: "", pullRequest: "",
  };
}

/**
 * Access at the target is modelled as a set; each step applies or revokes through the pure rules,
 * as the executor does. After every end, what is left must be exactly the true standing access
 * plus what the grants still live give.
 */
function world(standing: string[]) {
  const held = new Set(standing);
  const live = new Map<string, { target: GrantTarget; standing: string[] }>();
  return {
    held,
    apply(t: GrantTarget) {
      const others = [...live.values()];
      const s = standingOf(roles, t, [...held].filter((u) => roles.units(t).includes(u)), others);
      for (const u of roles.units(t)) held.add(u);
      live.set(t.id, { target: t, standing: s });
      return s;
    },
    revoke(t: GrantTarget) {
      const me = live.get(t.id)!;
      live.delete(t.id);
      for (const u of unitsToRevoke(roles, t, me.standing, [...live.values()])) held.delete(u);
    },
  };
}

describe("reference counting (pure): overlaps and extensions end with nothing left over", () => {
  it("two overlapping grants of one role: the first end keeps the role, the second removes it", () => {
    const w = world([]);
    const a = grant(1, ["analytics_read"]);
    const b = grant(2, ["analytics_read"]);
    w.apply(a);
    // Held when b is applied, but only through a: not standing.
    expect(w.apply(b)).toEqual([]);
    w.revoke(a);
    expect([...w.held]).toEqual(["role:alice:analytics_read"]); // b is still live
    w.revoke(b);
    expect([...w.held]).toEqual([]);
  });

  it("ended in the other order, the same: nothing is left over", () => {
    const w = world([]);
    const a = grant(1, ["analytics_read"]);
    const b = grant(2, ["analytics_read"]);
    w.apply(a);
    w.apply(b);
    w.revoke(b);
    expect([...w.held]).toEqual(["role:alice:analytics_read"]);
    w.revoke(a);
    expect([...w.held]).toEqual([]);
  });

  it("access held before any grant is standing for every grant that overlaps it, and is never revoked", () => {
    const w = world(["role:alice:analytics_read"]);
    const a = grant(1, ["analytics_read"]);
    const b = grant(2, ["analytics_read", "app_write"]);
    expect(w.apply(a)).toEqual(["role:alice:analytics_read"]);
    // Held through a *and* standing (a says so): still standing for b.
    expect(w.apply(b)).toEqual(["role:alice:analytics_read"]);
    w.revoke(a);
    w.revoke(b);
    expect([...w.held]).toEqual(["role:alice:analytics_read"]);
  });

  it("only grants of the same provider count", () => {
    const a = grant(1, ["analytics_read"]);
    const elsewhere = grant(2, ["analytics_read"], "webhook");
    expect(unitsToRevoke(roles, a, [], [{ target: elsewhere, standing: [] }])).toEqual(["role:alice:analytics_read"]);
    expect(standingOf(roles, a, ["role:alice:analytics_read"], [{ target: elsewhere, standing: [] }])).toEqual(["role:alice:analytics_read"]);
  });
});

describe("which other grants count (from their records)", () => {
  const base = { v: 1 as const, grant: { requester: "alice", resource: "prod-db", role: "read-only", duration: "2h", reason: "x" }, target: { provider: "postgres", config: {}, grant: {} }, starts_at: "2026-11-29T13:00:00.000Z", expires_at: "2026-11-29T15:00:00.000Z" };
  const other = (expiresAt: string | undefined) => ({ number: 8, path: "grants/prod-db/alice-2.yaml", target: grant(8, ["analytics_read"]), standing: [], expiresAt });

  it("an applied grant may hold access until its revoke, even past its window: its units are never someone's standing access", () => {
    expect(mayHoldAccess({ ...base, status: "APPROVED" })).toBe(true);
    expect(mayHoldAccess({ ...base, status: "EXECUTED" })).toBe(false);
    expect(mayHoldAccess({ ...base, status: "REVOKED" })).toBe(false);
  });

  it("a grant being applied (its standing recorded, the provider called) may hold access; one not yet attempted does not", () => {
    expect(mayHoldAccess({ ...base, status: "APPLYING", standing: [] })).toBe(true);
    expect(mayHoldAccess({ ...base, status: "APPLYING" })).toBe(false);
    expect(mayHoldAccess({ ...base, status: "SCHEDULED" })).toBe(false);
  });

  it("a revoke keeps only the units of grants whose window is still open (or not yet recorded)", () => {
    const at = new Date("2026-11-29T14:00:00Z");
    expect(stillGives(other("2026-11-29T15:00:00.000Z"), at)).toBe(true);
    expect(stillGives(other("2026-11-29T13:59:59.000Z"), at)).toBe(false);
    expect(stillGives(other(undefined), at)).toBe(true);
  });
});
