import type { ApplicationFunction, Context, Probot } from "probot";
import { accessRepositoriesNotice, EVERY_REPOSITORY, isAccessRepository, type AccessRepositories } from "./config.js";
import type { GitHub, RepoRef } from "./github/client.js";
import type { AppDeps, Log } from "./handlers/evaluate.js";
import { KeyedQueue } from "./handlers/queue.js";
import { probotInstallations, scheduleSweeps } from "./scheduler/cron.js";
import { Scheduler, systemClock, type Clock } from "./scheduler/scheduler.js";
import { searchOpenRequests } from "./scheduler/sweep.js";

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
}

export type JitApp = ApplicationFunction & { scheduler: Scheduler; queue: KeyedQueue };

type PullRef = RepoRef & { number: number };

/**
 * The app: webhook events and the scheduler, both feeding the one evaluation through one keyed
 * queue. Handlers only name the affected request and enqueue it, so GitHub gets its answer at
 * once (PRODUCT.md invariant 9) whatever the evaluation has to write.
 */
export function createApp(options: AppOptions): JitApp {
  const clock = options.clock ?? systemClock;
  const deps: AppDeps = { ...options, now: () => clock.now() };
  let probot: Probot | undefined;
  const logger: Log = {
    info: (m) => probot?.log.info(m),
    warn: (m) => probot?.log.warn(m),
    error: (m) => probot?.log.error(m),
  };
  const repositories = options.repositories ?? EVERY_REPOSITORY;
  // A repository outside JIT_ACCESS_REPOSITORIES is decided by its name alone, before any request.
  const accessible = (ref: RepoRef) => isAccessRepository(repositories, ref);
  const queue = new KeyedQueue((key, error) => logger.error(`evaluation of ${key} failed: ${(error as Error).message}`));
  const scheduler = new Scheduler(probotInstallations(() => probot!), deps, clock, logger, queue, { isAccessRepository: accessible });

  const appFn: ApplicationFunction = (app) => {
    probot = app;
    const notice = accessRepositoriesNotice(repositories);
    app.log[notice.level](notice.message);
    const enqueue = (gh: GitHub, installationId: number | undefined, ref: PullRef, log: Log): void => void scheduler.enqueue(gh, installationId, ref, log);

    const installationOf = (context: Context) => (context.payload as { installation?: { id: number } }).installation?.id;
    const onPullRequest = async (context: Context<"pull_request" | "pull_request_review">) => {
      const { owner, repo } = context.repo();
      enqueue(context.octokit, installationOf(context), { owner, repo, number: context.payload.pull_request.number }, context.log);
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
      const { owner, repo } = context.repo();
      enqueue(context.octokit, installationOf(context), { owner, repo, number: context.payload.issue.number }, context.log);
    });

    app.on("issue_comment.created", async (context) => {
      // Only comments on pull requests that carry a command matter.
      if (!context.payload.issue.pull_request || !/^\s*\/jit\s/m.test(context.payload.comment.body)) return;
      if (context.payload.comment.user?.type === "Bot") return;
      const { owner, repo } = context.repo();
      enqueue(context.octokit, installationOf(context), { owner, repo, number: context.payload.issue.number }, context.log);
    });

    // Someone joined or left a team: any pending request of the organization may be gated by it.
    // The search is queued too (a burst of membership events coalesces into one search).
    app.on("membership", async (context) => {
      const org = context.payload.organization;
      void queue.enqueue(`membership:${org.login.toLowerCase()}`, async () => {
        const pending = await searchOpenRequests(context.octokit, { login: org.login, type: "Organization" }, "jit:pending");
        // Each request is queued under its own key: one that fails (GitHub, a bad file) never stops the others.
        for (const ref of pending.filter(accessible)) enqueue(context.octokit, installationOf(context), ref, context.log);
      });
    });

    if (options.sweepSchedule) {
      // Rebuild the view of live grants from GitHub, then keep it by events, timers and the sweep.
      void scheduler.rebuild().catch((error: unknown) => app.log.error(`start-up rebuild failed: ${(error as Error).message}`));
      scheduleSweeps(scheduler, options.sweepSchedule, app.log);
    }
  };
  return Object.assign(appFn, { scheduler, queue });
}
