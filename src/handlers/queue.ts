/**
 * One evaluation at a time per request (docs/reference/invariants.md, invariant 8), in this process.
 *
 * Work is keyed by request (`owner/repo#number`, case-insensitive). While a key runs, further
 * work for it does not start alongside: it coalesces into *one* more run, which starts after the
 * running one and — because every job re-reads GitHub's state — sees everything that happened
 * meanwhile. Ten redeliveries during one evaluation cost one more evaluation, not ten. Different
 * keys run in parallel.
 *
 * A job's failure is reported to `onError` and never reaches the webhook handler that enqueued it:
 * the handler has long answered. What a failure leaves undone is found again by the sweep.
 */
export type Job = () => Promise<void>;
/**
 * What a job waits for before it starts (before its lock, too): a webhook's work lets the webhook
 * route answer first (see AckPriority). A job enqueued without one is never held.
 */
export type Turn = () => Promise<void>;
/** Whether a job's work turns out to be done already when its turn comes (a webhook of the app's own doing). */
export type SkipCheck = () => boolean;

interface Slot {
  /** The run in progress. */
  running: Promise<void>;
  /**
   * The one coalesced run waiting behind it, and whoever waits for it. `skipIf`: the checks of the
   * webhooks it stands for, when every one of them may find its work already done; it is skipped
   * only if all say so. Undefined: it must run.
   */
  next?: { job: Job; turn: Turn | undefined; done: Promise<void>; resolve: () => void; skipIf: SkipCheck[] | undefined };
}

export class KeyedQueue {
  private readonly slots = new Map<string, Slot>();
  /** Runs still waiting for their turn, by key: unheld work for the key lets them go at once. */
  private readonly holds = new Map<string, () => void>();
  private readonly idleWaiters: (() => void)[] = [];
  /** Jobs that failed so far (a metric; the sweep redoes their work). */
  failures = 0;
  lastFailure: { key: string; error: unknown } | undefined;

  constructor(
    private readonly onError: (key: string, error: unknown) => void,
    /** Runs each job: with REDIS_URL, under the request's lock across replicas (and timed). */
    private readonly around: (key: string, job: Job) => Promise<void> = (_key, job) => job(),
  ) {}

  static key(ref: { owner: string; repo: string; number: number }): string {
    return `${ref.owner}/${ref.repo}#${ref.number}`.toLowerCase();
  }

  /**
   * Runs or queues `job` for `key`, after its `turn` if it has one; resolves when the run that
   * covers it has finished (never rejects). `skipIf`: the job's work may turn out to be done when
   * its turn comes (checked then); it does not replace a job already queued for the key, which
   * covers it, and it runs unless every such check coalesced with it says so.
   */
  enqueue(key: string, job: Job, turn?: Turn, options: { skipIf?: SkipCheck } = {}): Promise<void> {
    const slot = this.slots.get(key);
    const skipIf = options.skipIf ? [options.skipIf] : undefined;
    if (!slot) {
      const running = this.run(key, job, turn, skipIf);
      this.slots.set(key, { running });
      return running;
    }
    // Unheld work (the scheduler's: a due revoke, a start) never waits for a held run ahead of it.
    if (!turn) this.holds.get(key)?.();
    if (slot.next) {
      // A job that may find its work already done (a webhook of the app's own doing, checked when
      // its turn comes) never replaces one queued for another reason: that one runs, covering it.
      // Queued behind another such job, the two run unless both find their work done.
      if (skipIf) {
        if (slot.next.skipIf) slot.next.skipIf.push(...skipIf);
        return slot.next.done;
      }
      slot.next.skipIf = undefined;
      // Coalesce: the waiting run reads fresh state anyway, so one job stands for all. The newest
      // replaces it, except that held work never replaces unheld work: the scheduler's job for a
      // due grant (which waits for its exact moment) is not lost to a webhook that arrived meanwhile,
      // and that webhook's event is covered by it all the same.
      if (slot.next.turn === undefined && turn !== undefined) return slot.next.done;
      slot.next.job = job;
      slot.next.turn = turn;
      return slot.next.done;
    }
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    slot.next = { job, turn, done, resolve, skipIf };
    return done;
  }

  /** Requests queued or running. */
  get depth(): number {
    let n = 0;
    for (const slot of this.slots.values()) n += slot.next ? 2 : 1;
    return n;
  }

  /** Resolves once nothing is queued or running (tests, benchmarks, shutdown). */
  idle(): Promise<void> {
    if (this.slots.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Waits for `turn`, or until unheld work for the same key arrives. */
  private async heldFor(key: string, turn: Turn): Promise<void> {
    let release!: () => void;
    const early = new Promise<void>((resolve) => (release = resolve));
    this.holds.set(key, release);
    try {
      await Promise.race([turn(), early]);
    } finally {
      this.holds.delete(key);
    }
  }

  private async run(key: string, job: Job, turn: Turn | undefined, skipIf: SkipCheck[] | undefined): Promise<void> {
    try {
      if (turn) await this.heldFor(key, turn);
      if (!skipIf?.every((seen) => seen())) await this.around(key, job);
    } catch (error) {
      this.failures++;
      this.lastFailure = { key, error };
      this.onError(key, error);
    }
    // Yield once so that a job enqueued by the finishing run's caller lands in `next`, not a new slot.
    await Promise.resolve();
    const slot = this.slots.get(key)!;
    const next = slot.next;
    if (next) {
      slot.next = undefined;
      slot.running = this.run(key, next.job, next.turn, next.skipIf).then(next.resolve);
      return;
    }
    this.slots.delete(key);
    if (this.slots.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
