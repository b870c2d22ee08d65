/**
 * Webhook answers before the work they bring (docs/reference/invariants.md, invariant 9). The process has one event
 * loop: while a burst of deliveries arrives, the evaluations the first ones queued would otherwise
 * send and parse their GitHub requests in between, and every later answer waits behind that work —
 * on two cores, a burst of 100 took a p99 of 360–540 ms to answer, against 110–130 ms for Probot
 * with a handler that does nothing. So an evaluation a webhook queued starts once no delivery has
 * been in progress for `quietMs`: the burst is answered first, the evaluations catch up after it.
 *
 * Only the start waits, once, never a request in flight: a held request would keep its slot in
 * Octokit's throttle (shared by every webhook client) and any lock its evaluation holds. And never
 * for long: `maxHoldMs` at most, however busy the route stays — anyone can POST to it. The
 * scheduler's work (due revokes, starts, the sweep) never waits here (see KeyedQueue's coalescing).
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
    // While a delivery is in progress, its end calls this again; each waiter's own bound still runs.
    if (this.timer || this.waiters.length === 0 || this.inFlight > 0) return;
    const wait = Math.max(1, this.quietMs - (this.now() - this.lastAnswerAt));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.isQuiet()) return void this.wakeLater();
      for (const release of [...this.waiters]) release();
    }, wait);
    this.timer.unref?.();
  }
}
