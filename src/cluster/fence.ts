import { AsyncLocalStorage } from "node:async_hooks";
import type { Decision } from "../lifecycle/decide.js";
import type { Fence } from "./locks.js";

/**
 * The fence of the job running now. A job's evaluation reaches GitHub through clients shared with
 * other jobs (one webhook's client serves every request it names) and providers made per call, so
 * the fence travels with the job's async context rather than through every signature on the way.
 * Outside a job (no Redis configured, or work that is not an evaluation) there is none.
 */
const scope = new AsyncLocalStorage<Fence>();

export function runFenced<T>(fence: Fence, job: () => Promise<T>): Promise<T> {
  return scope.run(fence, job);
}

export function currentFence(): Fence | undefined {
  return scope.getStore();
}

/** Thrown before anything is written: a decision that applies, in a job without a lock. */
export class ApplyDeferredError extends Error {
  constructor() {
    super("this decision applies a grant, and Redis (the replicas' shared lock) cannot be reached: nothing is done now; it is evaluated again later");
    this.name = "ApplyDeferredError";
  }
}

/**
 * Without a lock, an evaluation may end access, record and display, but never apply: it is
 * stopped before its first write, so nothing half-done is left for another replica to overwrite.
 */
export function admitDecision(decision: Decision): void {
  const fence = currentFence();
  if (fence && !fence.locked && decision.effects.some((e) => e.type === "apply")) throw new ApplyDeferredError();
}
