import { alreadySeen } from "./github/own-events.js";
import type { ScheduledTask } from "node-cron";
import type { ApplicationFunction, ApplicationFunctionOptions, Context, Probot } from "probot";
import { GitHubClients } from "./cluster/clients.js";
import { Cluster, CLUSTER_DEFAULTS, type ClusterOptions } from "./cluster/cluster.js";
import { admitDecision, runFenced } from "./cluster/fence.js";
import { guardedProviders } from "./cluster/instrument.js";
import { NO_PERSON_LOCK_MESSAGE } from "./cluster/person-locks.js";
import { ThrottleWatch } from "./cluster/throttle-watch.js";
import { AccessRepositorySet, accessRepositoriesNotice, EVERY_REPOSITORY, type AccessRepositories } from "./config.js";
import type { GitHub, RepoRef } from "./github/client.js";
import type { AppDeps, Log } from "./handlers/evaluate.js";
import { HeardCommands } from "./handlers/heard-commands.js";
import { listLiveGrants, withKnownGrants } from "./github/live-grants.js";
import { ProcessTurns, type PersonLock } from "./github/person-lock.js";
import { parseCommand } from "./lifecycle/commands.js";
import { ProviderError } from "./providers/types.js";
import { KeyedQueue, type Job } from "./handlers/queue.js";
import { AckPriority } from "./http/ack-priority.js";
import { Readiness } from "./http/readiness.js";
import { serviceRoutes } from "./http/routes.js";
import { fieldLog } from "./logging.js";
import { Metrics } from "./metrics.js";
import { probotInstallations, scheduleSweeps } from "./scheduler/cron.js";
import { Scheduler, systemClock, type Clock } from "./scheduler/scheduler.js";
import { searchOpenRequests } from "./scheduler/sweep.js";
import type { SlackApp } from "./slack/setup.js";

/** Pull request events that can change a request's validity, approval or life. */
export const PULL_REQUEST_EVENTS = [
  "pull_request.opened",
  "pull_request.reopened",
  "pull_request.synchronize",
  "pull_request.ready_for_review",
  "pull_request.edited",
  "pull_request.closed",
] as const;

export const REVIEW_EVENTS = ["pull_request_review.submitted", "pull_request_review.dismissed", "pull_request_review.edited"] as const;

export interface AppOptions extends Omit<AppDeps, "now"> {
  /** Time (and timers), injectable; the system clock by default. */
  clock?: Clock;
  /** JIT_ACCESS_REPOSITORIES, read by the entry point; default: every repository with a policy. */
  repositories?: AccessRepositories;
  /** node-cron expression for the sweep; null: no cron and no start-up rebuild (tests drive the scheduler). */
  sweepSchedule: string | null;
  /**
   * The replicas' shared Redis (docs/operations/replicas.md): request locks, the scheduler lease. Without it the
   * process is alone and schedules everything itself (the embedded default).
   */
  redisUrl?: string;
  /** Lease and lock timings (tests shorten them). */
  cluster?: Partial<ClusterOptions>;
  /**
   * false: no urgent lane, provider effects wait in the installation's one queue of writes with
   * everything else (the benchmark's "before"). On by default.
   */
  urgentLane?: boolean;
  /** The Slack app (JIT_SLACK_BOT_TOKEN): one message per request, and its buttons' endpoint. */
  slack?: SlackApp;
}

export type JitApp = ApplicationFunction & {
  scheduler: Scheduler;
  queue: KeyedQueue;
  metrics: Metrics;
  /** Set once Probot has loaded the app, with REDIS_URL. */
  cluster: Cluster | undefined;
  /** Stops the timer, the sweep and the lease; `handOver: false` leaves the lease to expire, as a crash would. */
  close(options?: { handOver?: boolean }): Promise<void>;
  /**
   * A pod's stop (SIGTERM): /readyz turns 503 at once (webhooks still arriving are answered and
   * queued), queued work finishes (`graceMs` at most), then `close()` hands the lease over.
   */
  drain(options?: { graceMs?: number }): Promise<void>;
  /** What /readyz and /healthz answer. */
  readiness: Readiness;
};

type PullRef = RepoRef & { number: number };

/**
 * The app: webhook events and the scheduler, both feeding the one evaluation through one keyed
 * queue. Handlers only name the affected request and enqueue it, so GitHub gets its answer at
 * once (docs/reference/invariants.md, invariant 9) whatever the evaluation has to write.
 */
export function createApp(options: AppOptions): JitApp {
  const clock = options.clock ?? systemClock;
  let probot: Probot | undefined;
  let cluster: Cluster | undefined;
  let cron: ScheduledTask | undefined;
  const logger: Log = fieldLog(() => probot?.log);
  const repositories = options.repositories ?? EVERY_REPOSITORY;
  // A repository outside JIT_ACCESS_REPOSITORIES is decided by its name (or its id, once seen) alone, before any request.
  const access = new AccessRepositorySet(repositories, (message) => logger.warn(message));
  const accessible = (ref: RepoRef & { id?: number }) => access.includes(ref);
  const readiness = new Readiness(
    // One request, no retries, 5 s at most.
    async () => void (await (await clients.auth()).rest.apps.listInstallations({ per_page: 1, request: { retries: 0, signal: AbortSignal.timeout(5_000) } })),
    options.redisUrl ? () => cluster?.redisUp ?? false : undefined,
    () => (cluster ? (cluster.throttlingLost ? "lost: Redis restarted empty; restart this replica" : cluster.redisUp ? "shared (Redis)" : "off while Redis is unreachable") : "this process"),
  );
  const metrics: Metrics = new Metrics({
    clustered: !!options.redisUrl,
    queueDepth: () => queue.depth,
    leader: () => (cluster ? cluster.role === "leader" : true),
    schedulerActive: () => scheduler.active,
    redisUp: () => cluster?.redisUp,
    sharedThrottling: () => (cluster ? cluster.redisUp && !cluster.throttlingLost : undefined),
    // A scrape asks GitHub again when the last answer is 30 s old, as /healthz does.
    githubUp: () => (probot ? (readiness.health(), readiness.githubUp) : undefined),
    ready: () => readiness.ready().ready,
  });
  const now = () => clock.now();
  // A person's applies and revokes take turns in this app; with REDIS_URL, across replicas too.
  // The cluster exists once Probot has loaded the app, before any job runs; were it missing, an
  // apply would fail closed.
  const turns = new ProcessTurns();
  const personLock: PersonLock = options.personLock ?? {
    run: (key, effect, work) => {
      if (cluster) return cluster.personLocks.run(key, effect, work);
      if (options.redisUrl && effect === "apply") return Promise.reject(new ProviderError(NO_PERSON_LOCK_MESSAGE, true));
      return turns.run(key, effect, work);
    },
  };
  const heardCommands = new HeardCommands(() => clock.now().getTime());
  const sharedThrottling = () => !cluster || (cluster.redisUp && !cluster.throttlingLost);
  const clients = new GitHubClients(() => probot!, sharedThrottling, metrics, options.redisUrl ? new ThrottleWatch(sharedThrottling) : undefined);
  const deps: AppDeps = {
    ...options,
    ...(options.urgentLane === false ? {} : { urgentClient: options.urgentClient ?? ((installationId: number) => clients.urgent(installationId)) }),
    now,
    heardCommands,
    ...(options.slack ? { slackMessages: options.slack.messages } : {}),
    // Reference counting also reads the grants this process knows to hold access whose files left
    // the default branch (withKnownGrants); `scheduler` is built below, before any evaluation runs.
    liveGrants: withKnownGrants(options.liveGrants ?? listLiveGrants, (ref, requester) => scheduler.index.mayHoldFor(ref.owner, ref.repo, requester)),
    providers: guardedProviders(options.providers, metrics, now, options.redisUrl ? { ...CLUSTER_DEFAULTS, ...options.cluster }.lockTtlMs : 0),
    admit: admitDecision,
    personLock,
    onAlert: (kind, message) => {
      metrics.alert(kind);
      options.onAlert?.(kind, message);
    },
  };
  // Each job timed; with REDIS_URL, run under its request's lock across replicas, fenced.
  const around = async (key: string, job: Job): Promise<void> => {
    const timed = async () => {
      const end = metrics.evaluation.startTimer();
      try {
        await job();
        end({ outcome: "ok" });
      } catch (error) {
        end({ outcome: "error" });
        throw error;
      }
    };
    if (!cluster) return timed();
    return cluster.locks.run(key, (fence) => runFenced(fence, timed));
  };
  const queue = new KeyedQueue((key, error) => logger.error(`evaluation of ${key} failed: ${(error as Error).message}`, { request: key, action: "evaluate", outcome: "failed" }), around);
  // Work a webhook brought starts once the webhook route is quiet (AckPriority); the scheduler's never waits.
  const ackPriority = new AckPriority();
  const scheduler = new Scheduler(probotInstallations((id) => clients.auth(id)), deps, clock, logger, queue, {
    isAccessRepository: accessible,
    onObserve: (key, state) => metrics.observeGrant(key, state),
  });

  const appFn: ApplicationFunction = async (app, appOptions?: ApplicationFunctionOptions) => {
    probot = app;
    const notice = accessRepositoriesNotice(repositories);
    app.log[notice.level](notice.message);
    answerWebhooksFirst(app, metrics, ackPriority);
    try {
      appOptions?.addHandler(serviceRoutes(metrics, readiness));
      if (options.slack) appOptions?.addHandler(options.slack.routes.handler);
    } catch {
      // No HTTP server (a Probot built by hand, as tests do): nothing to serve the routes on.
    }
    const enqueue = (gh: GitHub, installationId: number | undefined, ref: PullRef, log: Log, seen?: () => boolean): void => {
      const client = clients.forEvent(gh, installationId);
      const turn = () => ackPriority.whenQuiet();
      if (!(client instanceof Promise)) return void scheduler.enqueue(client, installationId, ref, log, true, turn, seen);
      void client.then((c) => scheduler.enqueue(c, installationId, ref, log, true, turn, seen), (error: unknown) => log.error(`no GitHub client for installation ${installationId}: ${(error as Error).message}`));
    };

    const installationOf = (context: Context) => (context.payload as { installation?: { id: number } }).installation?.id;
    /** The event's repository, its id noted first: a configured repository is recognised by it after a rename. */
    const repoOf = (context: Context<"pull_request" | "pull_request_review" | "issue_comment">): RepoRef => {
      const { owner, repo } = context.repo();
      accessible({ owner, repo, id: context.payload.repository.id });
      return { owner, repo };
    };
    const onPullRequest = async (context: Context<"pull_request" | "pull_request_review">) => {
      const { owner, repo } = repoOf(context);
      const pr = context.payload.pull_request;
      // The opening or the merge of a pull request may be of the app's own doing, with nothing new
      // to say, which is known only when its evaluation's turn comes (github/own-events.ts);
      // every other webhook (a person's) always has.
      const action = (context.payload as { action: string }).action;
      const mayBeOwn = context.name === "pull_request" && (action === "opened" || (action === "closed" && !!(pr as { merged?: boolean | null }).merged));
      const facts = mayBeOwn ? { owner, repo, number: pr.number, action, merged: !!(pr as { merged?: boolean | null }).merged, headSha: pr.head.sha, authorId: pr.user?.id, mergedById: (pr as { merged_by?: { id: number } | null }).merged_by?.id } : undefined;
      enqueue(context.octokit, installationOf(context), { owner, repo, number: pr.number }, fieldLog(() => context.log), facts && (() => alreadySeen(facts)));
    };
    app.on([...PULL_REQUEST_EVENTS], onPullRequest);
    app.on([...REVIEW_EVENTS], onPullRequest);

    // Labels and the status comment are displays of the record: when a person changes them, the
    // evaluation puts them back at once (and says so in the log). The app's own changes are skipped.
    app.on(["pull_request.labeled", "pull_request.unlabeled"], async (context) => {
      if (context.payload.sender.type === "Bot" || !context.payload.label?.name.startsWith("jit:")) return;
      await onPullRequest(context);
    });
    app.on(["issue_comment.edited", "issue_comment.deleted"], async (context) => {
      const comment = context.payload.comment as { performed_via_github_app?: { id: number } | null };
      if (!context.payload.issue.pull_request || comment.performed_via_github_app?.id !== options.appId) return;
      if (context.payload.sender.type === "Bot") return;
      const { owner, repo } = repoOf(context);
      enqueue(context.octokit, installationOf(context), { owner, repo, number: context.payload.issue.number }, fieldLog(() => context.log));
    });

    app.on("issue_comment.created", async (context) => {
      // Only comments on pull requests that carry a command matter.
      const { comment, issue } = context.payload;
      const command = issue.pull_request ? parseCommand(comment.body) : undefined;
      if (!command || !comment.user || comment.user.type === "Bot") return;
      const { owner, repo } = repoOf(context);
      const ref = { owner, repo, number: issue.number };
      // As first written: the delivery is signed by GitHub, so a later edit or deletion of the
      // comment (by anyone with write access) cannot take the command back (HeardCommands).
      heardCommands.heard(KeyedQueue.key(ref), { id: comment.id, login: comment.user.login, ...command, createdAt: comment.created_at });
      enqueue(context.octokit, installationOf(context), ref, fieldLog(() => context.log));
    });

    // Someone joined or left a team: any pending request of the organization may be gated by it.
    // The search is queued too (a burst of membership events coalesces into one search).
    app.on("membership", async (context) => {
      const org = context.payload.organization;
      void queue.enqueue(`membership:${org.login.toLowerCase()}`, async () => {
        const pending = await searchOpenRequests(await clients.forEvent(context.octokit, installationOf(context)), { login: org.login, type: "Organization" }, "jit:pending");
        // Each request is queued under its own key: one that fails (GitHub, a bad file) never stops the others.
        for (const ref of pending.filter(accessible)) enqueue(context.octokit, installationOf(context), ref, fieldLog(() => context.log));
      });
    });

    // Renamed or transferred: records are keyed by the repository's id and read under any name, but
    // the scheduler's index holds grants by name; it is rebuilt for the installation, so due revokes
    // keep firing under the new name. The id is noted first (a configured repository stays in).
    app.on(["repository.renamed", "repository.transferred"], async (context) => {
      const r = context.payload.repository;
      const changes = context.payload.changes as { repository?: { name?: { from?: string } }; owner?: { from?: { organization?: { login: string }; user?: { login: string } } } };
      const from = { owner: changes.owner?.from?.organization?.login ?? changes.owner?.from?.user?.login ?? r.owner.login, repo: changes.repository?.name?.from ?? r.name };
      accessible({ owner: r.owner.login, repo: r.name, id: r.id });
      const installationId = installationOf(context);
      if (installationId === undefined) return;
      app.log.info(`${from.owner}/${from.repo} is now ${r.full_name}: rebuilding the index of live grants of installation ${installationId}`);
      void queue.enqueue(`repository:${r.id}`, () => scheduler.moved(installationId, from));
    });

    // A person revoked the app's authorization on GitHub: their Slack link goes (the event reaches
    // every GitHub App without a subscription).
    app.on("github_app_authorization.revoked", async (context) => {
      const removed = await options.slack?.links.unlinkGitHubUser(context.payload.sender.id);
      if (removed) app.log.info(`Slack: ${context.payload.sender.login} revoked the app's authorization; ${removed} Slack link(s) removed`);
    });

    const rebuildFailed = (error: unknown) => app.log.error(`start-up rebuild failed: ${(error as Error).message}`);
    if (options.redisUrl) {
      // Replicas: a follower until the lease says otherwise; the one that becomes active rebuilds.
      scheduler.deactivate();
      cluster = new Cluster(
        options.redisUrl,
        options.cluster ?? {},
        logger,
        (role, previous) => {
          const wasActive = previous !== "follower";
          const isActive = role !== "follower";
          if (isActive && !wasActive) void scheduler.activate().catch(rebuildFailed);
          if (!isActive && wasActive) scheduler.deactivate();
        },
        (lock) => metrics.lockWaits.inc({ lock }),
        turns,
      );
      // A webhook that arrives before the first connection would find no lock and be deferred.
      await cluster.start();
    } else if (options.sweepSchedule) {
      // Rebuild the view of live grants from GitHub, then keep it by events, timers and the sweep.
      void scheduler.rebuild().catch(rebuildFailed);
    }
    // Every replica ticks; sweep() does nothing unless this one is the active scheduler.
    if (options.sweepSchedule) cron = scheduleSweeps(scheduler, options.sweepSchedule, app.log);
    if (readiness.serving === "starting") readiness.serving = "serving";
  };
  const close = async ({ handOver = true }: { handOver?: boolean } = {}) => {
    await cron?.destroy();
    await options.slack?.close();
    scheduler.deactivate();
    await cluster?.stop({ handOver });
  };
  const drain = async ({ graceMs = 10_000 }: { graceMs?: number } = {}) => {
    readiness.serving = "draining";
    logger.info("draining: /readyz answers 503; waiting for queued work, then handing the scheduler lease over", { serving: "draining", graceMs });
    const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([queue.idle(), grace]);
    await close();
  };
  const jitApp = Object.assign(appFn, { scheduler, queue, metrics, close, drain, readiness, cluster });
  // A getter, not a copy: the cluster exists only once Probot has loaded the app.
  return Object.defineProperty(jitApp, "cluster", { get: () => cluster });
}

/**
 * @octokit/webhooks' Node middleware answers GitHub once `verifyAndReceive` (signature check, then
 * every handler) resolves, and Probot puts that middleware before any route an app can add — so
 * that call is where a delivery is timed (ack latency) and marked in progress (the app's own
 * GitHub requests wait for the route to be quiet).
 */
function answerWebhooksFirst(app: Probot, metrics: Metrics, priority: AckPriority): void {
  const verifyAndReceive = app.webhooks.verifyAndReceive;
  app.webhooks.verifyAndReceive = (event) =>
    priority.answering(async () => {
      const end = metrics.webhookAck.startTimer();
      try {
        return await verifyAndReceive(event);
      } finally {
        end();
      }
    });
}
