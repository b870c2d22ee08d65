import { ExecutionError, Redlock, ResourceLockedError, type Lock } from "@sesamecare-oss/redlock";
import type { Redis } from "ioredis";
import pRetry from "p-retry";
import { ProviderError } from "../providers/types.js";

/**
 * Per-request locks across replicas (docs/reference/invariants.md, invariant 8), with redlock on the shared Redis:
 * the keyed queue keeps one evaluation at a time per request in a process; this lock extends that
 * to every replica. A lock expires on its own (a replica that dies holds nothing for long) and is
 * extended while its job runs.
 *
 * Fencing: GitHub and the providers cannot check a token, so the holder proves it still holds the
 * lock right before every effect — `check()` extends it in Redis (an atomic compare-and-extend),
 * which both confirms the lock is still this job's and gives the effect a full TTL to land in.
 * Once the lock is known lost, every later effect of the job is refused. docs/operations/replicas.md
 * explains why the gap that remains (an effect sent but delayed past the TTL) is harmless.
 */
export type Effect = "apply" | "revoke" | "write";

export interface Fence {
  /** False: the job runs without a lock because Redis is unreachable. */
  readonly locked: boolean;
  /** Resolves when `effect` may happen now; throws when it may not. */
  check(effect: Effect): Promise<void>;
}

/** The lock was taken over (it expired, or Redis lost it): this job must not act any more. */
export class LockLostError extends Error {
  constructor(key: string, effect: Effect) {
    super(`the lock of ${key} was lost before ${effect === "write" ? "a GitHub write" : `a provider ${effect}`}; another replica may be evaluating it, so this evaluation stops here`);
    this.name = "LockLostError";
  }
}

/** Shown on the request (a ProviderError), and the apply is retried with backoff. */
export const NO_LOCK_MESSAGE = "the replicas' shared lock (Redis) cannot be reached, and a grant is applied only under its lock; jit-access tries again";

/** Without Redis: revokes and GitHub writes go ahead (idempotent, keyed by the grant), applies never. */
export const UNLOCKED: Fence = {
  locked: false,
  async check(effect) {
    if (effect === "apply") throw new ProviderError(NO_LOCK_MESSAGE, true);
  },
};

export interface LockOptions {
  /** A lock's life without renewal. */
  ttlMs: number;
  /** How long to wait for a lock another replica holds before giving up (the job fails and is retried). */
  waitMs: number;
  /** Pause between tries while it is held. */
  retryMs: number;
  /** Called once per acquisition that finds the lock held by another replica and waits (a metric). */
  onWait?: () => void;
}

/** Another replica kept the lock for all of `waitMs`: the job fails, and is retried later. */
export class LockBusyError extends Error {
  constructor(key: string, waitMs: number) {
    super(`the lock of ${key} stayed with another replica for ${waitMs} ms`);
    this.name = "LockBusyError";
  }
}

/** Why redlock refused: the resource is held by someone else (or expired), or Redis did not answer. */
export async function refusal(error: unknown): Promise<"held" | "unreachable"> {
  if (!(error instanceof ExecutionError)) return "unreachable";
  if (error.attempts.length === 0) return "held"; // "Cannot extend an already-expired lock."
  const stats = await error.attempts[error.attempts.length - 1]!;
  const errors = [...stats.votesAgainst.values()];
  return errors.length > 0 && errors.every((e) => e instanceof ResourceLockedError) ? "held" : "unreachable";
}

export class RequestLocks {
  private readonly redlock: Redlock;

  constructor(redis: Redis, private readonly options: LockOptions) {
    this.redlock = new Redlock([redis], { retryCount: 0, driftFactor: 0.01 });
    // Every refused vote is also emitted; `refusal` classifies them where they matter.
    this.redlock.on("error", () => {});
  }

  /** Runs `job` under the lock of `key`; without Redis, unlocked (its fence refuses applies). */
  async run<T>(key: string, job: (fence: Fence) => Promise<T>): Promise<T> {
    const lock = await this.acquire(key);
    if (!lock) return job(UNLOCKED);
    const holder = new Holder(key, lock, this.options.ttlMs);
    try {
      return await job(holder);
    } finally {
      await holder.release();
    }
  }

  /**
   * Polls for the lock with p-retry: about every retryMs (jittered by a third either way, so replicas
   * that queue for one lock do not knock in step) until waitMs has passed. Not HTTP, so there is no
   * Retry-After to honour; an unreachable Redis ends the wait at once, unlocked.
   */
  private async acquire(key: string): Promise<Lock | undefined> {
    const resource = `jit-access:lock:${key}`;
    return pRetry(
      async () => {
        try {
          return await this.redlock.acquire([resource], this.options.ttlMs);
        } catch (error) {
          if ((await refusal(error)) === "unreachable") return undefined;
          throw new LockBusyError(key, this.options.waitMs);
        }
      },
      {
        retries: Number.POSITIVE_INFINITY,
        maxRetryTime: this.options.waitMs,
        factor: 1,
        minTimeout: (this.options.retryMs * 2) / 3,
        randomize: true, // minTimeout × [1, 2): pauses of 2/3 to 4/3 of retryMs
        onFailedAttempt: ({ attemptNumber }) => {
          if (attemptNumber === 1) this.options.onWait?.();
        },
      },
    );
  }
}

/** A held lock: renewed in the background every third of its TTL, and checked before each effect. */
class Holder implements Fence {
  readonly locked = true;
  private lost = false;
  private released = false;
  /** Extensions run one at a time: redlock retires the Lock object each one replaces. */
  private extending: Promise<"ok" | "held" | "unreachable"> = Promise.resolve("ok");
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly key: string,
    private lock: Lock,
    private readonly ttlMs: number,
  ) {
    this.timer = setInterval(() => void this.extend(), Math.max(50, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  async check(effect: Effect): Promise<void> {
    // Work a finished job left running (a notification's failure report) is not the evaluation's.
    if (this.released) return UNLOCKED.check(effect);
    if (this.lost) throw new LockLostError(this.key, effect);
    const outcome = await this.extend();
    if (outcome === "held") throw new LockLostError(this.key, effect);
    if (outcome === "unreachable") await UNLOCKED.check(effect);
  }

  async release(): Promise<void> {
    this.released = true;
    clearInterval(this.timer);
    await this.extending;
    // Unreachable or already gone: it expires by itself.
    if (!this.lost) await this.lock.release().catch(() => {});
  }

  private extend(): Promise<"ok" | "held" | "unreachable"> {
    this.extending = this.extending.then(async () => {
      if (this.lost) return "held";
      try {
        this.lock = await this.lock.extend(this.ttlMs);
        return "ok";
      } catch (error) {
        const why = await refusal(error);
        if (why === "held") this.lost = true;
        return why;
      }
    });
    return this.extending;
  }
}
