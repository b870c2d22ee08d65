import pRetry, { AbortError } from "p-retry";

/**
 * Outbound HTTP (webhook receivers, Slack, Teams) retried by p-retry: the attempts, the final
 * error and the stop on a refusal are its; the waits are ours, because they depend on the answer.
 * A 429 or 503 may say how long to wait (`Retry-After`): that wait is honoured when it is longer
 * than our own backoff, and when it is longer than MAX_RETRY_AFTER_MS we stop asking instead of
 * hammering a server that asked for quiet (the caller's own retry, later, takes over).
 */
export const MAX_RETRY_AFTER_MS = 60_000;

/** An attempt that may be tried again: a network error, a 5xx or a 429 (with its Retry-After, if any). */
export class RetryableFailure extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "RetryableFailure";
  }
}

/** A failure that no retry changes (a 4xx, a redirect, bad configuration): thrown as is, at once. */
export const finalFailure = (error: Error): AbortError => new AbortError(error);

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable, never negative.
 */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | undefined {
  const text = header?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its day and month; Date.parse alone would read "-5" or "1.5" as years.
  const at = /[A-Za-z]{3}/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait before the next attempt: our backoff, or the server's Retry-After when it asks for longer. */
export function nextWaitMs(backoffMs: number, asked: number | undefined): number {
  return Math.max(backoffMs, asked ?? 0);
}

/** The message when a server asked for a longer wait than we give it. */
export const askedTooLong = (ms: number) => `asked to retry after ${Math.ceil(ms / 1000)} s, over the ${MAX_RETRY_AFTER_MS / 1000} s jit-access waits`;

/**
 * Runs `attempt` once, then once more after each wait of `backoffMs` while it throws a
 * RetryableFailure. Resolves with its result; rejects with the last failure (its message says
 * why), or at once with what `finalFailure` wrapped. `onFailure` sees every failed attempt.
 */
export async function withRetries<T>(backoffMs: readonly number[], attempt: () => Promise<T>, onFailure: (error: Error) => void = () => {}): Promise<T> {
  return pRetry(attempt, {
    retries: backoffMs.length,
    // p-retry's own delay is off: the wait depends on the answer, and is slept below.
    minTimeout: 0,
    maxTimeout: 0,
    async onFailedAttempt({ error, attemptNumber, retriesLeft }) {
      onFailure(error);
      if (!(error instanceof RetryableFailure)) throw error; // a bug, not the server: no retry hides it
      if (retriesLeft === 0) return;
      if (error.retryAfterMs !== undefined && error.retryAfterMs > MAX_RETRY_AFTER_MS) throw new RetryableFailure(`${error.message}: ${askedTooLong(error.retryAfterMs)}`, error.retryAfterMs);
      await new Promise((resolve) => setTimeout(resolve, nextWaitMs(backoffMs[attemptNumber - 1] ?? 0, error.retryAfterMs)));
    },
  });
}
