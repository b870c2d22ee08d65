import { parseDuration } from "../grant/duration.js";
import { parseTimestamp } from "../grant/timestamp.js";

/**
 * The access window (docs/reference/grant-file.md, "The window"): `[merged_at or start, (start or merged_at) + duration]`,
 * fixed by immutable facts (see lifecycle/merged.ts). A `start` that has passed by the merge does
 * not move the end: the approvers approved `start … start + duration`, and waiting never extends
 * access.
 */
export function planWindow(grant: { duration: string; start?: string }, mergedAt: Date): { startsAt: Date; expiresAt: Date } {
  const duration = parseDuration(grant.duration)!;
  const start = grant.start === undefined ? undefined : new Date(startOf(grant.start));
  const from = start ?? mergedAt;
  return { startsAt: start && start > mergedAt ? start : mergedAt, expiresAt: new Date(from.getTime() + duration) };
}

/**
 * A scheduled grant is applied this much before its start. An extension (`jit extend`) starts
 * exactly when the grant it continues ends; applied first, it is a live grant when the original
 * is revoked, so reference counting keeps the access and nothing is taken away and given back.
 */
export const EARLY_START_MS = 2_000;

/**
 * A grant's `start` in milliseconds. Every start the schema accepts parses (grant/timestamp.ts),
 * and every grant is judged by the schema before it has a window. A grant approved under the
 * older, laxer schema (`+0100`) may still sit in a state block: what Date.parse read then is
 * read the same way now, as long as it is a number. Anything else is a bug that must stop here,
 * loudly, rather than become an Invalid Date in a state block.
 */
function startOf(text: string): number {
  const ms = parseTimestamp(text) ?? Date.parse(text);
  if (!Number.isFinite(ms)) throw new Error(`start ${JSON.stringify(text)} is not an RFC 3339 date-time`);
  return ms;
}

/**
 * Backoff of provider retries: 1, 2, 4 … seconds, at most 5 minutes. Short at first because a
 * revoke that failed leaves access in place (it must follow within a second or two once the target
 * answers again) and an apply that failed eats into a window that may be a few minutes long; the
 * doubling keeps a target that stays down from being asked more than about once in 5 minutes.
 */
export function nextAttemptAt(attempts: number, now: Date): Date {
  return new Date(now.getTime() + Math.min(300, 2 ** Math.max(0, attempts - 1)) * 1000);
}
