import type { GrantTarget, Provider } from "../../src/providers/types.js";

/**
 * The access target, in memory: PostgreSQL-like role memberships as units (`login:role`). It
 * logs every apply and revoke with the world's time, which is what the invariants are about.
 */
export interface Applied {
  id: string;
  startsAt: string;
  expiresAt: string;
  at: number;
  units: string[];
}

export interface Revoked {
  id: string;
  units: string[];
  at: number;
}

export class MemoryTarget {
  readonly held: Set<string>;
  /** Applies and revokes in the order they reached the target. */
  readonly log: ({ kind: "apply" } & Applied | { kind: "revoke" } & Revoked)[] = [];
  /** Called synchronously at each apply, before it takes effect (the oracle checks what GitHub shows then). */
  onApply: (a: Applied) => void = () => {};

  constructor(
    readonly standing: readonly string[],
    private readonly now: () => number,
  ) {
    this.held = new Set(standing);
  }

  get applies(): Applied[] {
    return this.log.filter((e) => e.kind === "apply");
  }

  get revokes(): Revoked[] {
    return this.log.filter((e) => e.kind === "revoke");
  }

  static units(t: Pick<GrantTarget, "requester" | "grant">): string[] {
    return ((t.grant.roles ?? []) as string[]).map((role) => `${t.requester.toLowerCase()}:${role}`);
  }

  readonly provider: Provider = {
    units: (t) => MemoryTarget.units(t),
    held: async (t) => MemoryTarget.units(t).filter((u) => this.held.has(u)),
    apply: async (t) => {
      const applied = { id: t.id, startsAt: t.startsAt, expiresAt: t.expiresAt, at: this.now(), units: MemoryTarget.units(t) };
      this.onApply(applied);
      this.log.push({ kind: "apply", ...applied });
      for (const u of applied.units) this.held.add(u);
    },
    revoke: async (t, units) => {
      this.log.push({ kind: "revoke", id: t.id, units: [...units], at: this.now() });
      for (const u of units) this.held.delete(u);
    },
    describe: (t) => `roles ${MemoryTarget.units(t).join(", ")}`,
  };
}
