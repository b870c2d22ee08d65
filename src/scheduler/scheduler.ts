import pMap from "p-map";
import { isNotFound, type GitHub, type RepoRef } from "../github/client.js";
import { grantFilesOn, learnRequesters, originsOf, recordOf } from "../github/live-grants.js";
import { evaluatePullRequest, evaluateSnapshot, prepareEvaluation, withUrgentLane, type AppDeps, type Log } from "../handlers/evaluate.js";
import { recordsOfGrantFiles } from "./records-found.js";
import { KeyedQueue } from "../handlers/queue.js";
import type { CommentState } from "../lifecycle/codec.js";
import { STATUS_LABELS } from "../lifecycle/status.js";
import { GrantIndex, type IndexedGrant } from "./due.js";
import { isRateLimited, pendingTimeoutCandidates, rotate, searchOpenRequests, searchUpdatedRequests, type Account, type LabelledRequest } from "./sweep.js";
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
   * filtered by repository name before anything is read from a repository outside the list. The
   * id, where a listing gives it, lets a configured repository be recognised after a rename.
   */
  isAccessRepository: (ref: RepoRef & { id?: number }) => boolean;
  /** Told every state the scheduler learns of a grant (the live-grants metric). */
  onObserve?: (key: string, state: CommentState | undefined) => void;
  /** Evaluations one sweep spends per installation (SWEEP_EVALUATIONS); due grants are never counted. */
  sweepEvaluations: number;
  /** Sweeps a labelled PR whose record does not call for its label waits before it is evaluated again (SWEEP_BACK_OFF). */
  sweepBackOff: number;
}

/**
 * Evaluations per installation per sweep. Each costs a few requests (3 for a merged PR that is no
 * request; 20 or so for an end with its revert PR): 20 a minute stays far inside the 5,000 an hour
 * an installation has, whatever people label, so due revokes never wait for the rate limit.
 */
export const SWEEP_EVALUATIONS = 20;
/**
 * A labelled PR whose record does not call for the label (a person put `jit:revert-blocked` on a
 * PR that is no end, or the label outlived the pending state) is evaluated at most once this many
 * sweeps: half an hour at one sweep a minute. A change to the PR is still evaluated at once (the
 * sweep's search for updated PRs does not back off).
 */
export const SWEEP_BACK_OFF = 30;

const DEFAULTS: SchedulerOptions = { concurrency: 25, searchLagMs: 5 * 60_000, leadMs: 10_000, isAccessRepository: () => true, sweepEvaluations: SWEEP_EVALUATIONS, sweepBackOff: SWEEP_BACK_OFF };
/** Memory kept per PR (seen, back-off, deferred changes) is bounded: the oldest entries go first. */
const MEMORY_ENTRIES = 10_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
const RETRY_AFTER_ERROR_MS = 60_000;

/** What one of the sweep's evaluations ended in. */
interface Outcome {
  state?: CommentState | undefined;
  failed?: boolean;
  rateLimited?: boolean;
}

/** Thrown inside a sweep of one installation when an evaluation met the spent rate limit. */
class RateLimitedSweep extends Error {}

/** Sets `key` in a map kept to MEMORY_ENTRIES, the oldest entry dropped first. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= MEMORY_ENTRIES) map.delete(map.keys().next().value!);
  map.set(key, value);
}

function trim<V>(map: Map<string, V>): void {
  while (map.size > MEMORY_ENTRIES) map.delete(map.keys().next().value!);
}

/** At start-up, open requests updated this recently are evaluated again: work a crash may have interrupted. */
const RECENT_OPEN_MS = 24 * 3600_000;

/**
 * Knows every live (and scheduled, and not-yet-applied) grant, and acts when one is due.
 *
 * The index is a cache of GitHub's state, never the truth. At start-up it is rebuilt from git:
 * the grant files on each access repository's default branch, the request PR that added each,
 * and that PR's record (this app's check run) — labels and comments play no part, so nobody can
 * hide a live grant from it. Every due grant is re-evaluated from GitHub before anything is done,
 * through the same keyed queue as webhooks: one evaluation at a time per request. A precise timer
 * fires at the next due moment (expiry, warning, start, retry); the per-minute sweep is the safety
 * net: it evaluates the PRs of access repositories updated since the previous sweep.
 */
export class Scheduler {
  readonly index = new GrantIndex();
  private timer: unknown;
  private lastSweep: Date | undefined;
  /** Grants being handled (a due run, a sweep's evaluation), each mark owned by whoever set it. */
  private readonly inFlight = new Map<string, symbol>();
  /** Requests whose next evaluation may queue the requests it affects (see enqueue). */
  private readonly followOn = new Set<string>();
  /** The `updated_at` each PR had when the sweep last evaluated it: unchanged means nothing to do. */
  private readonly seen = new Map<string, string>();
  /** Sweeps run so far (the clock of the back-off). */
  private sweeps = 0;
  /** Labelled PRs whose record did not call for the label: the sweep number before which they are not evaluated again. */
  private readonly backOff = new Map<string, number>();
  /** Per installation: the key of the labelled PR the last sweep ended on (round-robin: the next one starts after it). */
  private readonly cursor = new Map<number, string>();
  /** Per installation: PRs updated since an earlier sweep that its cap left unevaluated (the search window moves on without them). */
  private readonly deferred = new Map<number, Map<string, LabelledRequest>>();
  /** What the evaluations the sweep waits for ended in, by key (set by the job, taken by `evaluate`). */
  private readonly outcomes = new Map<string, Outcome | undefined>();
  /** Repositories found to hold a policy (lower-case `owner/repo`): the sweep looks only at these. */
  readonly accessRepositories = new Set<string>();
  private running: Promise<void> = Promise.resolve();
  private readonly options: SchedulerOptions;
  private readonly reads: () => Promise<() => void>;
  /**
   * Whether this process runs the timer, the sweep and what is due. Always, for one process; with
   * REDIS_URL only the lease holder (or every replica while Redis is unreachable): the others still
   * evaluate what webhooks bring, and keep the index, but never arm the timer or sweep.
   */
  active = true;

  constructor(
    private readonly installations: Installations,
    private readonly deps: AppDeps,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly queue: KeyedQueue = new KeyedQueue((key, error) => log.error(`evaluation of ${key} failed: ${(error as Error).message}`)),
    options: Partial<SchedulerOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.reads = semaphore(this.options.concurrency);
  }

  /**
   * Queues one evaluation of a PR (webhooks and the sweep alike); what it leaves the grant in
   * goes to the index, and the requests a merged deletion affects are queued under their own keys.
   * Those are evaluated without following on: every merged PR that touched a grant's path counts as
   * affected, other deletions of a reused path included, and two such deletions would otherwise
   * queue each other for ever. A wish to follow on survives coalescing (it is kept by key).
   * `turn`, when given, is awaited before the evaluation starts (a webhook's work lets the webhook
   * route answer first; see AckPriority); coalesced with unheld work, it is dropped (see KeyedQueue).
   */
  enqueue(gh: GitHub, installationId: number | undefined, ref: RepoRef & { number: number }, log: Log = this.log, followOn = true, turn?: () => Promise<void>, alreadySeen?: () => boolean): Promise<void> {
    // A repository outside JIT_ACCESS_REPOSITORIES is decided by its name alone, before any request.
    if (!this.options.isAccessRepository(ref)) return Promise.resolve();
    const key = KeyedQueue.key(ref);
    if (followOn) this.followOn.add(key);
    const job = async () => {
      const follow = this.followOn.delete(key);
      try {
        const { state, affected, accessRepository } = await evaluatePullRequest(gh, ref, await withUrgentLane(this.deps, installationId), log);
        if (this.outcomes.has(key)) this.outcomes.set(key, { state });
        if (accessRepository) this.accessRepositories.add(`${ref.owner}/${ref.repo}`.toLowerCase());
        if (installationId) this.observe(installationId, ref, state);
        // Unheld: what follows (a grant a merged deletion ends) is already decided.
        if (follow) for (const other of affected) void this.enqueue(gh, installationId, other, log, false);
      } catch (error) {
        if (this.outcomes.has(key)) this.outcomes.set(key, { failed: true, rateLimited: isRateLimited(error) });
        // Tried again a minute later (a webhook has no other retry); the queue logs and counts it.
        // Not a pull request GitHub does not have (say, one a body's "Extends #N" names): that
        // would be tried again every minute for ever. The sweep finds it if it ever appears.
        if (installationId && !isNotFound(error)) this.retryLater({ installationId, ...ref, updatedAt: "" });
        throw error;
      }
    };
    // A webhook of this process's own doing may find its outcome seen already (github/own-events.ts).
    return this.queue.enqueue(key, job, turn, alreadySeen ? { skipIf: alreadySeen } : {});
  }

  /** Start-up: every grant file on every access repository's default branch, its record read once; recent open requests again. */
  async rebuild(): Promise<void> {
    const started = this.clock.now();
    let oldestLive = started.getTime();
    for (const installation of await this.installations.list()) {
      try {
        const gh = await this.installations.client(installation.id);
        oldestLive = Math.min(oldestLive, await this.rebuildInstallation(gh, installation.id, started));
        await this.rebuildLabelled(gh, installation.id, installation.account);
      } catch (error) {
        this.log.error(`start-up rebuild of installation ${installation.id} failed: ${(error as Error).message}`);
      }
    }
    // The first sweep looks back to the oldest live grant's apply: a `/jit revoke` written while
    // the app was down is found then (its comment moved the PR's updated_at), not at the expiry.
    this.lastSweep = new Date(oldestLive);
    this.arm();
    await this.runDue();
  }

  /**
   * Merged requests that show a live or applying grant but whose files the rebuild did not find on
   * the default branch (a direct push removed one while this process was not running): evaluated
   * now, so their records schedule their ends again. Two searches per installation. The labels are
   * only a display and a person can remove them; the app restores them whenever it evaluates the
   * request, so hiding a grant this way takes a removal while no replica runs.
   */
  private async rebuildLabelled(gh: GitHub, installationId: number, account: Account): Promise<void> {
    const found = [...(await searchOpenRequests(gh, account, STATUS_LABELS.APPROVED, "merged")), ...(await searchOpenRequests(gh, account, STATUS_LABELS.PENDING, "merged"))];
    for (const pr of found) {
      if (!this.options.isAccessRepository(pr) || this.index.get(GrantIndex.key(pr))) continue;
      this.index.setDue({ installationId, owner: pr.owner, repo: pr.repo, number: pr.number, updatedAt: "" }, 0);
    }
  }

  /** This replica became the scheduler: rebuild from GitHub (the previous leader's index died with it), then run. */
  activate(): Promise<void> {
    this.active = true;
    return this.rebuild();
  }

  /** Another replica is the scheduler now: no timer, no sweep. Work already queued finishes. */
  deactivate(): void {
    this.active = false;
    this.stop();
  }

  /** Returns when the oldest live grant it found was applied (or `now`). */
  private async rebuildInstallation(gh: GitHub, installationId: number, now: Date): Promise<number> {
    let oldestLive = now.getTime();
    const repos = await gh.paginate(gh.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
    for (const r of repos) {
      const ref = { owner: r.owner.login, repo: r.name };
      if (r.archived || !this.options.isAccessRepository({ ...ref, id: r.id })) continue;
      let tree;
      try {
        tree = await grantFilesOn(gh, ref, r.default_branch);
      } catch (error) {
        if (isNotFound(error) || (error as { status?: number }).status === 409) continue; // empty repository
        throw error;
      }
      if (!tree.hasPolicy) continue;
      this.accessRepositories.add(`${ref.owner}/${ref.repo}`.toLowerCase());
      const index = (number: number, state: CommentState | undefined) => {
        const entry = { installationId, ...ref, number, updatedAt: "" };
        // Merged but never handled as merged (its webhook was lost while the app was down), or an
        // end whose revert PR did not merge: due now.
        if (!state?.status || state.status === "PENDING" || state.revert_pending) this.index.setDue(entry, 0);
        else this.learn(entry, state);
        if (state?.status === "APPROVED" && state.applied_at) oldestLive = Math.min(oldestLive, Date.parse(state.applied_at) || oldestLive);
      };
      // Most files are found through their requests' records (about one read each); the rest
      // through their own history, PR and record (about four).
      const { found, unmatched } = await recordsOfGrantFiles(gh, { ...ref, repoId: r.id }, tree.files, this.deps.appId);
      for (const { number, state } of found) index(number, state);
      await learnRequesters(gh, ref, unmatched);
      await this.pool(unmatched, async (file) => {
        for (const origin of await originsOf(gh, ref, r.default_branch, file)) {
          index(origin.number, await recordOf(gh, { ...ref, repoId: r.id, number: origin.number }, origin.headSha, this.deps.appId));
        }
      });
      const open = await gh.paginate(gh.rest.pulls.list, { ...ref, state: "open", sort: "updated", direction: "desc", per_page: 100 });
      for (const pr of open) {
        if (now.getTime() - Date.parse(pr.updated_at) > RECENT_OPEN_MS) break;
        void this.enqueue(gh, installationId, { ...ref, number: pr.number });
      }
    }
    return oldestLive;
  }

  /**
   * A repository was renamed or transferred (`from`: its old name): its grants, indexed under that
   * name, would be evaluated there and never found again (GitHub answers the old name with a
   * redirect at best), so their due revokes would not fire. The index forgets the old name and
   * the installation is read again, finding them under the new one.
   */
  async moved(installationId: number, from: RepoRef): Promise<void> {
    const old = `${from.owner}/${from.repo}`.toLowerCase();
    this.index.forget((e) => `${e.owner}/${e.repo}`.toLowerCase() === old);
    this.accessRepositories.delete(old);
    const gh = await this.installations.client(installationId);
    await this.rebuildInstallation(gh, installationId, this.clock.now());
    this.arm();
  }

  /**
   * The safety net: PRs of access repositories updated since the last sweep, pending timeouts,
   * unrecorded ends; what is due goes first and last, never counted. Per installation at most
   * `sweepEvaluations` evaluations (see SWEEP_EVALUATIONS): changes first (those the cap leaves
   * wait for the next sweep, in memory), then the labelled PRs in turn, each sweep starting where
   * the last one stopped; a labelled PR whose record does not call for its label waits
   * `sweepBackOff` sweeps. Memory only speeds things up: a restart starts over, from GitHub.
   */
  async sweep(): Promise<void> {
    if (!this.active) return;
    this.sweeps++;
    // Due revokes first: they must never wait behind the sweep's re-evaluations for the rate limit.
    await this.runDue();
    const started = this.clock.now();
    const since = this.lastSweep ? new Date(this.lastSweep.getTime() - this.options.searchLagMs) : undefined;
    for (const installation of await this.installations.list()) {
      try {
        const gh = await this.installations.client(installation.id);
        await this.sweepInstallation(gh, installation.id, installation.account, started, since);
      } catch (error) {
        // One installation's failure (suspended, rate-limited) must not stop the others.
        this.log.error(`sweep of installation ${installation.id} failed: ${(error as Error).message}`);
      }
    }
    this.lastSweep = started;
    await this.runDue();
  }

  private async sweepInstallation(gh: GitHub, installationId: number, account: Account, now: Date, since: Date | undefined): Promise<void> {
    const accessible = this.options.isAccessRepository;
    let budget = this.options.sweepEvaluations;
    const done = new Set<string>();
    const deferred = this.deferredOf(installationId);
    // Throws RateLimitedSweep when the evaluation met the spent rate limit: the rest would too.
    const evaluate = async (ref: LabelledRequest): Promise<Outcome | undefined> => {
      const key = KeyedQueue.key(ref);
      budget--;
      done.add(key);
      // Seen as it is now, whichever way it was reached: a change is not evaluated twice.
      remember(this.seen, key, ref.updatedAt);
      deferred.delete(key);
      const outcome = await this.evaluate(gh, installationId, ref);
      if (outcome?.rateLimited) throw new RateLimitedSweep();
      return outcome;
    };
    try {
      const changed = since ? await this.changedSince(gh, installationId, account, since) : [];
      const pending = (await searchOpenRequests(gh, account, "jit:pending")).filter(accessible);
      const blocked = (await searchOpenRequests(gh, account, REVERT_BLOCKED_LABEL, "merged")).filter(accessible);
      const labelled = [...pending, ...blocked].filter((r) => (this.backOff.get(KeyedQueue.key(r)) ?? 0) <= this.sweeps);
      // Changes first, but never all of the budget while labelled PRs wait: a steady stream of changes must not starve them.
      let forChanges = budget - Math.min(labelled.length, Math.floor(budget / 4));
      for (const pr of changed) {
        if (forChanges-- <= 0) deferred.set(KeyedQueue.key(pr), pr);
        else this.judge(KeyedQueue.key(pr), await evaluate(pr));
      }
      trim(deferred);

      // The labelled PRs in turn; pending ones only once old enough to have timed out (their policy says).
      const timedOut = pendingTimeoutCandidates(gh, now);
      const isBlocked = new Set(blocked.map((r) => KeyedQueue.key(r)));
      for (const pr of rotate(labelled, KeyedQueue.key, this.cursor.get(installationId))) {
        if (budget <= 0) break;
        const key = KeyedQueue.key(pr);
        if (done.has(key)) continue;
        if (!isBlocked.has(key) && !(await timedOut(pr))) continue;
        this.cursor.set(installationId, key);
        this.judge(key, await evaluate(pr));
      }
    } catch (error) {
      if (!(error instanceof RateLimitedSweep) && !isRateLimited(error)) throw error;
      // Every further request would fail the same way until the limit resets: the next sweep goes on.
      this.log.warn(`sweep of installation ${installationId} stopped: GitHub's rate limit is spent`);
    }
  }

  /** Whether a labelled PR's record calls for its label; one that does not waits `sweepBackOff` sweeps. */
  private judge(key: string, outcome: Outcome | undefined): void {
    if (!outcome || outcome.failed) return; // failed: retried through the index, not backed off
    const called = outcome.state?.revert_pending === true || outcome.state?.status === "PENDING";
    if (called) this.backOff.delete(key);
    else remember(this.backOff, key, this.sweeps + this.options.sweepBackOff);
  }

  private deferredOf(installationId: number): Map<string, LabelledRequest> {
    let found = this.deferred.get(installationId);
    if (!found) this.deferred.set(installationId, (found = new Map()));
    return found;
  }

  /**
   * PRs updated since `since` (one search, whatever their labels) in a repository known to hold a
   * policy, that the sweep did not already see as they are — a lost webhook, a crash
   * mid-evaluation, a label someone changed — and those an earlier sweep's cap left for later.
   */
  private async changedSince(gh: GitHub, installationId: number, account: Account, since: Date): Promise<LabelledRequest[]> {
    const found = new Map(this.deferredOf(installationId));
    for (const pr of await searchUpdatedRequests(gh, account, since)) found.set(KeyedQueue.key(pr), pr);
    return [...found.entries()]
      .filter(([key, pr]) => this.options.isAccessRepository(pr) && this.accessRepositories.has(`${pr.owner}/${pr.repo}`.toLowerCase()) && this.seen.get(key) !== pr.updatedAt)
      .map(([, pr]) => pr);
  }

  /** Event handlers report the state a grant was left in. */
  observe(installationId: number, ref: RepoRef & { number: number }, state: CommentState | undefined, updatedAt = ""): void {
    this.learn({ installationId, ...ref, updatedAt }, state);
    this.arm();
  }

  private learn(entry: Omit<IndexedGrant, "dueAt">, state: CommentState | undefined): void {
    this.index.observe(entry, state);
    this.options.onObserve?.(GrantIndex.key(entry), state);
  }

  /** Resolves when the run the timer last started has finished (for tests and shutdown). */
  settled(): Promise<void> {
    return this.running;
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Every grant due now or within the lead, each in the keyed queue: its snapshot is read first (a
   * few at a time), then it waits for its exact moment and is decided and acted on — so a burst of
   * expiries does not wait for reads that could be done before. Only the bookkeeping that follows
   * a revoke (revert PR, labels, comment) takes turns, so no revoke waits behind another's.
   */
  async runDue(): Promise<void> {
    if (!this.active) return;
    const due = this.index.due(this.clock.now().getTime() + this.options.leadMs).filter((e) => !this.inFlight.has(GrantIndex.key(e)));
    const mark = Symbol("runDue");
    for (const e of due) this.inFlight.set(GrantIndex.key(e), mark);
    // The timer that started this run has fired: armed again now for the next grant not in this
    // run, not when the run ends — a run lasts until its last grant's moment and bookkeeping
    // (revert PR, labels, comment: paced display writes), and a grant due meanwhile would wait for it.
    this.arm();
    const gate = semaphore(this.options.concurrency);
    // Each grant is free to be scheduled again as soon as the run that covers it ends (its job, or
    // whichever job it was coalesced into): not after the whole burst and its bookkeeping.
    const settled = (key: string) => () => {
      this.release(key, mark);
      this.arm();
    };
    await Promise.all(
      due.map((entry) =>
        this.queue.enqueue(GrantIndex.key(entry), async () => {
          try {
            const gh = await this.installations.client(entry.installationId);
            // Made before the wait, as the snapshot is read: at the due moment only the revoke remains.
            const lanes = await withUrgentLane(this.deps, entry.installationId);
            const release = await this.reads();
            let snapshot;
            try {
              snapshot = await prepareEvaluation(gh, entry, this.deps);
            } finally {
              release();
            }
            await this.until(entry.dueAt);
            // A failed evaluation is retried here too: a merged deletion still ends the grants it affects.
            const { state, affected } = await evaluateSnapshot(gh, { owner: entry.owner, repo: entry.repo, number: entry.number }, snapshot, { ...lanes, gate }, this.log);
            this.learn({ ...entry, updatedAt: "" }, state);
            for (const other of affected) void this.enqueue(gh, entry.installationId, other);
          } catch (error) {
            this.failed(entry, error);
          }
        }).finally(settled(GrantIndex.key(entry))),
      ),
    );
    this.arm();
  }

  /** Clears a grant's in-flight mark if `mark` still owns it (another run may have marked it since). */
  private release(key: string, mark: symbol): void {
    if (this.inFlight.get(key) === mark) this.inFlight.delete(key);
  }

  /** Runs `work` over `items`, `concurrency` at a time, keeping their order in the results. */
  private pool<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
    return pMap(items, work, { concurrency: Math.max(1, this.options.concurrency) });
  }

  /** Kept in the index and tried again a minute later (GitHub or the network failed). */
  private failed(entry: IndexedGrant, error: unknown): void {
    this.log.error(`evaluation of ${GrantIndex.key(entry)} failed: ${(error as Error).message}`, { request: GrantIndex.key(entry), requester: entry.requester, action: "evaluate", outcome: "failed" });
    this.retryLater(entry);
  }

  private retryLater(entry: Omit<IndexedGrant, "dueAt">): void {
    this.index.setDue({ ...entry, updatedAt: "" }, this.clock.now().getTime() + RETRY_AFTER_ERROR_MS);
    this.arm();
  }

  /**
   * Evaluates one pull request now, through the queue (sweep work: pending timeouts, unrecorded
   * ends, updates); what it ended in, undefined when it was already being handled.
   */
  private async evaluate(gh: GitHub, installationId: number, ref: RepoRef & { number: number }): Promise<Outcome | undefined> {
    const key = GrantIndex.key(ref);
    if (this.inFlight.has(key)) return undefined;
    const mark = Symbol("evaluate");
    this.inFlight.set(key, mark);
    this.outcomes.set(key, undefined);
    try {
      await this.enqueue(gh, installationId, ref);
      return this.outcomes.get(key);
    } finally {
      this.outcomes.delete(key);
      this.release(key, mark);
      this.arm();
    }
  }

  private until(at: number): Promise<void> {
    const wait = at - this.clock.now().getTime();
    return wait <= 0 ? Promise.resolve() : new Promise((resolve) => this.clock.setTimeout(resolve, wait));
  }

  /**
   * One timer, `leadMs` before the earliest due moment of a grant not already being handled: one
   * that is (it waits for its moment in the queue) would otherwise re-arm the timer at 0 ms, again
   * and again, for the whole lead. Whoever finishes handling it arms the timer again.
   */
  private arm(): void {
    this.stop();
    if (!this.active) return;
    const next = this.index.nextDueAt((e) => !this.inFlight.has(GrantIndex.key(e)));
    if (next === undefined) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, next - this.options.leadMs - this.clock.now().getTime()));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.running = this.runDue().catch((error: unknown) => this.log.error(`timer run failed: ${(error as Error).message}`));
    }, wait);
  }
}
