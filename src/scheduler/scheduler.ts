import type { GitHub, RepoRef } from "../github/client.js";
import { readStatusState } from "../github/snapshot.js";
import { evaluatePullRequest, finishEvaluation, prepareEvaluation, type AppDeps, type Log } from "../handlers/evaluate.js";
import type { CommentState } from "../lifecycle/state-block.js";
import { GrantIndex, type IndexedGrant } from "./due.js";
import { searchOpenRequests, sweepPendingTimeouts, type Account } from "./sweep.js";
import { REVERT_BLOCKED_LABEL } from "../github/revert.js";

/** At most `n` holders at once; acquiring resolves to the release (calling it twice is harmless). */
export function semaphore(n: number): () => Promise<() => void> {
  let free = n;
  const waiting: (() => void)[] = [];
  return () =>
    new Promise((resolve) => {
      const enter = () => {
        free--;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          free++;
          waiting.shift()?.();
        });
      };
      if (free > 0) enter();
      else waiting.push(enter);
    });
}

/** Time, injectable: tests and benchmarks drive it by hand. */
export interface Clock {
  now(): Date;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => new Date(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The installations the app can act in, and a client for each. */
export interface Installations {
  list(): Promise<{ id: number; account: Account }[]>;
  client(id: number): Promise<GitHub>;
}

export interface SchedulerOptions {
  /** Due grants evaluated at once. */
  concurrency: number;
  /** Search results can lag behind GitHub's state; each sweep looks back this much further. */
  searchLagMs: number;
  /**
   * How long before a grant is due its snapshot is read, so that at the moment itself only the
   * decision and the revoke remain (reading first would cost several round trips of lag).
   */
  leadMs: number;
  /**
   * JIT_ACCESS_REPOSITORIES: the searches are per installation account, so their results are
   * filtered by repository name before anything is read from a repository outside the list.
   */
  isAccessRepository: (ref: RepoRef) => boolean;
}

const DEFAULTS: SchedulerOptions = { concurrency: 25, searchLagMs: 5 * 60_000, leadMs: 10_000, isAccessRepository: () => true };
const MAX_TIMER_MS = 2 ** 31 - 1;
const RETRY_AFTER_ERROR_MS = 60_000;

/**
 * Knows every live (and scheduled, and not-yet-applied) grant, and acts when one is due.
 *
 * The index is a cache of GitHub's state, never the truth: at start-up it is rebuilt from a
 * search per installation and one status-comment read per grant; every due grant is
 * re-evaluated from GitHub before anything is done. A precise timer fires at the next due
 * moment (expiry, warning, start, retry); the per-minute sweep is the safety net and costs
 * O(1) requests per installation when nothing changed, because it searches only PRs updated
 * since the previous sweep.
 */
export class Scheduler {
  readonly index = new GrantIndex();
  private timer: unknown;
  private lastSweep: Date | undefined;
  private readonly inFlight = new Set<string>();
  private running: Promise<void> = Promise.resolve();
  private readonly options: SchedulerOptions;

  constructor(
    private readonly installations: Installations,
    private readonly deps: AppDeps,
    private readonly clock: Clock,
    private readonly log: Log,
    options: Partial<SchedulerOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Start-up: every merged grant that is live or waiting, its state read once. Then what is due runs. */
  async rebuild(): Promise<void> {
    const started = this.clock.now();
    for (const installation of await this.installations.list()) {
      const gh = await this.installations.client(installation.id);
      await this.scan(gh, installation.id, installation.account, undefined);
    }
    this.lastSweep = started;
    await this.runDue();
  }

  /** The safety net: what changed since the last sweep, pending timeouts, unrecorded ends; then what is due. */
  async sweep(): Promise<void> {
    const started = this.clock.now();
    const since = this.lastSweep ? new Date(this.lastSweep.getTime() - this.options.searchLagMs) : undefined;
    for (const installation of await this.installations.list()) {
      try {
        const gh = await this.installations.client(installation.id);
        await this.scan(gh, installation.id, installation.account, since);
        const evaluate = (ref: RepoRef & { number: number }) => this.evaluate(gh, installation.id, ref);
        const accessible = this.options.isAccessRepository;
        await sweepPendingTimeouts(gh, installation.account, started, evaluate, accessible);
        for (const ref of (await searchOpenRequests(gh, installation.account, REVERT_BLOCKED_LABEL, "merged")).filter(accessible)) await evaluate(ref);
      } catch (error) {
        // One installation's failure (suspended, rate-limited) must not stop the others.
        this.log.error(`sweep of installation ${installation.id} failed: ${(error as Error).message}`);
      }
    }
    this.lastSweep = started;
    await this.runDue();
  }

  /** Event handlers report the state a grant was left in. */
  observe(installationId: number, ref: RepoRef & { number: number }, state: CommentState | undefined, updatedAt = ""): void {
    this.index.observe({ installationId, ...ref, updatedAt }, state);
    this.arm();
  }

  /** Resolves when the run the timer last started has finished (for tests and shutdown). */
  settled(): Promise<void> {
    return this.running;
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Merged requests labelled approved (live) or pending (scheduled, not yet applied), changed since `since`. */
  private async scan(gh: GitHub, installationId: number, account: Account, since: Date | undefined): Promise<void> {
    for (const label of ["jit:approved", "jit:pending"]) {
      const found = (await searchOpenRequests(gh, account, label, "merged", since)).filter(this.options.isAccessRepository);
      const changed = found.filter((r) => this.index.get(GrantIndex.key(r))?.updatedAt !== r.updatedAt);
      // States are read a few at a time: a start-up with a thousand live grants must not take minutes.
      await this.pool(changed, async ({ owner, repo, number, updatedAt }) => {
        const ref = { owner, repo, number };
        const state = await readStatusState(gh, ref, this.deps.appId);
        const entry = { installationId, ...ref, updatedAt };
        // Merged but never handled as merged (its webhook was lost while the app was down): due now.
        if (!state?.status || state.status === "PENDING") this.index.setDue(entry, 0);
        else this.index.observe(entry, state);
      });
    }
    this.arm();
  }

  /**
   * Every grant due now or within the lead, in two phases: first every snapshot is read (a few
   * at a time), then each is decided and acted on at its own moment — so a burst of expiries
   * does not wait for reads that could be done before.
   */
  async runDue(): Promise<void> {
    const due = this.index.due(this.clock.now().getTime() + this.options.leadMs).filter((e) => !this.inFlight.has(GrantIndex.key(e)));
    for (const e of due) this.inFlight.add(GrantIndex.key(e));
    try {
      const prepared = await this.pool(due, async (entry) => {
        const gh = await this.installations.client(entry.installationId);
        try {
          return { entry, gh, snapshot: await prepareEvaluation(gh, entry, this.deps) };
        } catch (error) {
          this.failed(entry, error);
          return undefined;
        }
      });
      // At its moment each grant is decided and revoked at once; only the bookkeeping that follows
      // a revoke (revert PR, labels, comment) takes turns, so no revoke waits behind another's.
      const gate = semaphore(this.options.concurrency);
      await Promise.all(
        prepared
          .filter((p) => p !== undefined)
          .map(async ({ entry, gh, snapshot }) => {
            await this.until(entry.dueAt);
            try {
              const state = snapshot ? await finishEvaluation(gh, snapshot, { ...this.deps, gate }, this.log) : undefined;
              this.index.observe({ ...entry, updatedAt: "" }, state);
            } catch (error) {
              this.failed(entry, error);
            }
          }),
      );
    } finally {
      for (const e of due) this.inFlight.delete(GrantIndex.key(e));
    }
    this.arm();
  }

  /** Runs `work` over `items`, `concurrency` at a time, keeping their order in the results. */
  private async pool<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, items.length) }, worker));
    return results;
  }

  /** Kept in the index and tried again a minute later (GitHub or the network failed). */
  private failed(entry: IndexedGrant, error: unknown): void {
    this.log.error(`evaluation of ${GrantIndex.key(entry)} failed: ${(error as Error).message}`);
    this.index.setDue({ ...entry, updatedAt: "" }, this.clock.now().getTime() + RETRY_AFTER_ERROR_MS);
  }

  /** Evaluates one pull request now (sweep work: pending timeouts, unrecorded ends). */
  private async evaluate(gh: GitHub, installationId: number, ref: RepoRef & { number: number }): Promise<void> {
    const key = GrantIndex.key(ref);
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    try {
      this.index.observe({ installationId, ...ref, updatedAt: "" }, await evaluatePullRequest(gh, ref, this.deps, this.log));
    } catch (error) {
      this.failed({ installationId, ...ref, dueAt: 0, updatedAt: "" }, error);
    } finally {
      this.inFlight.delete(key);
    }
  }

  private until(at: number): Promise<void> {
    const wait = at - this.clock.now().getTime();
    return wait <= 0 ? Promise.resolve() : new Promise((resolve) => this.clock.setTimeout(resolve, wait));
  }

  /** One timer, `leadMs` before the earliest due moment. */
  private arm(): void {
    this.stop();
    const next = this.index.nextDueAt();
    if (next === undefined) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, next - this.options.leadMs - this.clock.now().getTime()));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.running = this.runDue().catch((error: unknown) => this.log.error(`timer run failed: ${(error as Error).message}`));
    }, wait);
  }
}
