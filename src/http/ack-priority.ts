/**
 * Webhook answers before background work (PRODUCT.md invariant 9). The process has one event loop:
 * while a burst of deliveries arrives, the evaluations they queued would otherwise send and parse
 * their GitHub requests in between, and every answer waits behind that work — on two cores, a burst
 * of 100 took a p99 of 360–540 ms to answer, against 110–130 ms for Probot with a handler that does
 * nothing. So a request the app's own work is about to send waits until no delivery has been in
 * progress for `quietMs`: the burst is answered first, the evaluations catch up after it.
 *
 * Never a starvation: a request waits `maxHoldMs` at most, however busy the webhook route stays
 * (under a steady stream the app slows down; it never stops). Nothing here delays an answer.
 */
export class AckPriority {
  private inFlight = 0;
  private lastAnswerAt = Number.NEGATIVE_INFINITY;
  private waiters: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly quietMs = 10,
    private readonly maxHoldMs = 1_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Runs `answer` (a delivery being verified and handed to its handlers) as a delivery in progress. */
  async answering<T>(answer: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await answer();
    } finally {
      this.inFlight--;
      this.lastAnswerAt = this.now();
      this.wakeLater();
    }
  }

  /** Resolves once the webhook route is quiet, or after `maxHoldMs`. */
  whenQuiet(): Promise<void> {
    if (this.isQuiet()) return Promise.resolve();
    return new Promise((resolve) => {
      const hold = setTimeout(release, this.maxHoldMs);
      hold.unref?.();
      const waiters = this.waiters;
      function release() {
        clearTimeout(hold);
        const at = waiters.indexOf(release);
        if (at >= 0) waiters.splice(at, 1);
        resolve();
      }
      waiters.push(release);
      this.wakeLater();
    });
  }

  private isQuiet(): boolean {
    return this.inFlight === 0 && this.now() - this.lastAnswerAt >= this.quietMs;
  }

  private wakeLater(): void {
    if (this.timer || this.waiters.length === 0) return;
    const wait = Math.max(1, this.quietMs - (this.now() - this.lastAnswerAt));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.isQuiet()) return this.wakeLater();
      for (const release of [...this.waiters]) release();
    }, wait);
    this.timer.unref?.();
  }
}
