import type { CommentState } from "../lifecycle/codec.js";
import { EARLY_START_MS } from "../lifecycle/window.js";

/**
 * When a grant next needs the app, from its recorded state alone (pure): the warning, the
 * expiry or a revoke retry of a live grant; the start of a scheduled one; the retry of a failed
 * apply. Undefined: nothing is ever due again (ended, rejected, or not a merged request).
 */
export function nextDueAt(state: CommentState | undefined): number | undefined {
  if (!state?.status) return undefined;
  const t = (iso: string | undefined) => (iso ? Date.parse(iso) : undefined);
  const earliest = (...times: (number | undefined)[]) => {
    const known = times.filter((x): x is number => x !== undefined && !Number.isNaN(x));
    return known.length ? Math.min(...known) : undefined;
  };
  switch (state.status) {
    case "APPROVED":
      if (state.next_revoke_at) return t(state.next_revoke_at);
      return earliest(state.warned_at ? undefined : t(state.warn_at), t(state.expires_at));
    case "SCHEDULED":
      return earliest(t(state.starts_at)! - EARLY_START_MS);
    case "APPLYING":
      return t(state.next_attempt_at) ?? 0; // never attempted, or interrupted: due now
    default:
      return undefined;
  }
}

export interface IndexedGrant {
  installationId: number;
  owner: string;
  repo: string;
  number: number;
  dueAt: number;
  /** The PR's `updated_at` when its state was read: unchanged means no need to read it again. */
  updatedAt: string;
  /** Whose grant (lower case), and whether its record says it may hold access (applied, or being applied). */
  requester?: string;
  mayHold?: boolean;
}

/** Live and waiting grants by `owner/repo#number`: a cache of GitHub's state, rebuilt at start-up. */
export class GrantIndex {
  private readonly entries = new Map<string, IndexedGrant>();

  static key(ref: { owner: string; repo: string; number: number }): string {
    return `${ref.owner}/${ref.repo}#${ref.number}`.toLowerCase();
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): IndexedGrant | undefined {
    return this.entries.get(key);
  }

  /** Records what a state says; forgets the grant when nothing is due any more. */
  observe(entry: Omit<IndexedGrant, "dueAt">, state: CommentState | undefined): void {
    const dueAt = nextDueAt(state);
    const key = GrantIndex.key(entry);
    if (dueAt === undefined) this.entries.delete(key);
    else {
      const mayHold = !!state?.target && (state.status === "APPROVED" || (state.status === "APPLYING" && state.standing !== undefined));
      this.entries.set(key, { ...entry, dueAt, ...(state?.grant ? { requester: state.grant.requester.toLowerCase() } : {}), mayHold });
    }
  }

  /** Sets when a grant is due regardless of its state (a failed evaluation waits; a missed merge is due now). */
  setDue(entry: Omit<IndexedGrant, "dueAt">, dueAt: number): void {
    this.entries.set(GrantIndex.key(entry), { ...entry, dueAt });
  }

  /**
   * The grants of one person in one repository whose records, when last read, said they may hold
   * access: reference counting adds them to what the default branch shows, since a grant file can
   * leave the branch by a direct push while its grant is still live.
   */
  mayHoldFor(owner: string, repo: string, requester: string): IndexedGrant[] {
    const [o, r, who] = [owner.toLowerCase(), repo.toLowerCase(), requester.toLowerCase()];
    return [...this.entries.values()].filter((e) => e.mayHold && e.requester === who && e.owner.toLowerCase() === o && e.repo.toLowerCase() === r);
  }

  /** Forgets the entries `match` accepts (a renamed repository's, under its old name). */
  forget(match: (e: IndexedGrant) => boolean): void {
    for (const [key, e] of this.entries) if (match(e)) this.entries.delete(key);
  }

  due(now: number): IndexedGrant[] {
    return [...this.entries.values()].filter((e) => e.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
  }

  /** The earliest due moment among the entries `include` accepts (all by default). */
  nextDueAt(include: (e: IndexedGrant) => boolean = () => true): number | undefined {
    let next: number | undefined;
    for (const e of this.entries.values()) if (include(e) && (next === undefined || e.dueAt < next)) next = e.dueAt;
    return next;
  }
}
