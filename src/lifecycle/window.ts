import { parseDuration } from "../grant/duration.js";

/**
 * The access window (PRODUCT.md §5): `[applied_at or start, + duration]`. A `start` that has
 * passed by the time the grant is applied does not move the end: the approvers approved
 * `start … start + duration`, and waiting never extends access.
 */
export function planWindow(grant: { duration: string; start?: string }, appliedAt: Date): { startsAt: Date; expiresAt: Date } {
  const duration = parseDuration(grant.duration)!;
  const start = grant.start ? new Date(grant.start) : undefined;
  const from = start ?? appliedAt;
  return { startsAt: start && start > appliedAt ? start : appliedAt, expiresAt: new Date(from.getTime() + duration) };
}

/**
 * A scheduled grant is applied this much before its start. An extension (`jit extend`) starts
 * exactly when the grant it continues ends; applied first, it is a live grant when the original
 * is revoked, so reference counting keeps the access and nothing is taken away and given back.
 */
export const EARLY_START_MS = 2_000;

/** Backoff of provider retries: 1, 2, 4 … minutes, at most 30. */
export function nextAttemptAt(attempts: number, now: Date): Date {
  return new Date(now.getTime() + Math.min(30, 2 ** Math.max(0, attempts - 1)) * 60_000);
}
