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
  /**
   * Ground truth of why each held unit is held: standing (held before any grant: nothing the app
   * did gave it) or given by a grant. The app can only infer this; the oracle compares against it.
   */
  private readonly origin = new Map<string, "standing" | "grant">();

  constructor(
    readonly standing: readonly string[],
    private readonly now: () => number,
  ) {
    this.held = new Set(standing);
    for (const u of standing) this.origin.set(u, "standing");
  }

  /** Held right now, and not because a grant gave it. */
  isStanding(unit: string): boolean {
    return this.held.has(unit) && this.origin.get(unit) === "standing";
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
      for (const u of applied.units) {
        if (!this.held.has(u)) this.origin.set(u, "grant");
        this.held.add(u);
      }
    },
    revoke: async (t, units) => {
      this.log.push({ kind: "revoke", id: t.id, units: [...units], at: this.now() });
      for (const u of units) {
        this.held.delete(u);
        this.origin.delete(u);
      }
    },
    describe: (t) => `roles ${MemoryTarget.units(t).join(", ")}`,
  };
}
