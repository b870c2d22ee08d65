import { ProcessTurns, type PersonLock } from "../github/person-lock.js";
import { ProviderError } from "../providers/types.js";
import { currentFence, runFenced } from "./fence.js";
import { LockBusyError, type Fence, type RequestLocks } from "./locks.js";

/** Shown on the request (a ProviderError), and the apply is retried with backoff. */
export const NO_PERSON_LOCK_MESSAGE = "the replicas' shared lock of this person's grants (Redis) cannot be reached, and a grant is applied only under it; jit-access tries again";

/**
 * A person's critical section across replicas (person-lock.ts says why): this app's own turn
 * first (sections of one process queue there rather than poll Redis against each other; a section
 * holding the shared lock never waits for a turn, so no cycle), then a redlock lock on
 * `jit-access:lock:person:<repository>:<person>`, the same kind as the request lock — renewed while
 * held, and fenced: inside the section the job's fence is the request lock's and this one's
 * together, so every provider call and GitHub write of the section first proves both are still
 * held, and a section whose person lock was taken over stops before its next write.
 *
 * Taken only inside the request's lock (one evaluation's effects run one after another), never two
 * at once: the order is always request → person, so two replicas cannot wait on each other.
 *
 * Redis unreachable — the decision:
 * - an **apply** does not start: it fails before reading anything (a retryable provider error, so
 *   it is recorded as not applied and tried again with backoff), exactly as an apply without the
 *   request's lock. Fail closed.
 * - a **revoke** goes ahead at once, in this app's turn only. Waiting could not make it safe —
 *   a replica cut off from Redis cannot tell whether another one holds the lock — and would only
 *   make it late; it is safe without the lock because (1) no apply runs without the lock anywhere,
 *   and one whose lock cannot be confirmed is refused before it applies (the fence); (2) the revoke
 *   reads the person's other live grants inside its section, after the others recorded their
 *   standing (an apply records it before applying), so it keeps every unit another grant gives;
 *   (3) an apply reads the others before what is held, so a revoke running beside it cannot make
 *   the revoked unit look like standing access. The one thing left is the safe direction: a revoke
 *   that read the others just before a new grant recorded itself may take away the unit that grant
 *   gives (less access, never more), and only while a replica cannot reach Redis.
 *
 * Held by another replica: both wait for it (up to the lock's `waitMs`), then fail and are retried.
 */
export class PersonLocks implements PersonLock {
  constructor(
    private readonly locks: RequestLocks,
    private readonly turns: PersonLock = new ProcessTurns(),
  ) {}

  run<T>(key: string, effect: "apply" | "revoke", work: () => Promise<T>): Promise<T> {
    return this.turns.run(key, effect, () => this.shared(key, effect, work));
  }

  private async shared<T>(key: string, effect: "apply" | "revoke", work: () => Promise<T>): Promise<T> {
    const request = currentFence();
    try {
      return await this.locks.run(key, async (person) => {
        if (!person.locked && effect === "apply") throw new ProviderError(NO_PERSON_LOCK_MESSAGE, true);
        return runFenced(request ? together(request, person) : person, work);
      });
    } catch (error) {
      // Only the acquisition waits for a lock (the section takes none), so this is the person's.
      if (error instanceof LockBusyError) throw new ProviderError(`another grant of this person was being applied or revoked by another replica all the while this one waited; jit-access tries again`, true);
      throw error;
    }
  }
}

/** Both locks must still be held: the request's first (it was taken first), then the person's. */
function together(request: Fence, person: Fence): Fence {
  return {
    locked: request.locked && person.locked,
    async check(effect) {
      await request.check(effect);
      await person.check(effect);
    },
  };
}
