/**
 * Reference counting reads the person's other grants and their access at the target, then applies
 * or revokes: those steps must not interleave with another grant of the same person doing the same
 * (docs/reference/provider-contract.md). Requests are evaluated one at a time each, but two requests of one person run in
 * parallel — one starting as the other expires, say — and one's read of "held" could then see the
 * other's unit while its record no longer counts it as live, and keep that unit for good as
 * "standing"; or a revoke could read the others before a new grant records itself, and take away
 * the unit that grant has just given. So applies and revokes take turns per person and repository:
 * in this process (`ProcessTurns`), and across replicas through the shared lock (with REDIS_URL:
 * cluster/person-locks.ts).
 */

/**
 * The person's turn, by the repository's id and the person's user id where known (a renamed
 * repository or account is still the same one; a login taken over by someone else is another
 * person), else by name and lowercase login.
 */
export function personKey(ref: { owner: string; repo: string; repoId?: number | undefined }, person: { requester: string; requesterId?: number | undefined }): string {
  const repo = ref.repoId ?? `${ref.owner}/${ref.repo}`;
  const who = person.requesterId ?? person.requester;
  return `person:${repo}:${who}`.toLowerCase();
}

/**
 * A person's critical section, keyed by `personKey`. `effect` says what the section does (with
 * replicas an apply never runs without the shared lock, a revoke may: cluster/person-locks.ts).
 * A section takes no other person's turn, and with replicas it is taken only inside a request's
 * own lock, so the order is always request → person and nothing waits in a cycle.
 */
export interface PersonLock {
  run<T>(key: string, effect: "apply" | "revoke", work: () => Promise<T>): Promise<T>;
}

/**
 * Turns in one process (one app instance): `work` runs when no other work for its key runs, in the
 * order asked. The default, and all there is without REDIS_URL.
 */
export class ProcessTurns implements PersonLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, _effect: "apply" | "revoke", work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** This process's turns, for effects made without an app's own (the CLI's, tests'). */
export const processTurns = new ProcessTurns();
