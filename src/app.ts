import type { ApplicationFunction, Context } from "probot";
import { evaluatePullRequest, type AppDeps } from "./handlers/evaluate.js";
import { scheduleSweeps } from "./scheduler/cron.js";
import { searchOpenRequests } from "./scheduler/sweep.js";

/** Pull request events that can change a request's validity or approval. */
export const PULL_REQUEST_EVENTS = [
  "pull_request.opened",
  "pull_request.reopened",
  "pull_request.synchronize",
  "pull_request.ready_for_review",
  "pull_request.edited",
  "pull_request.closed",
] as const;

export const REVIEW_EVENTS = ["pull_request_review.submitted", "pull_request_review.dismissed", "pull_request_review.edited"] as const;

export interface AppOptions extends AppDeps {
  /** node-cron expression for the sweep (pending timeouts); null: no sweep (tests drive it directly). */
  sweepSchedule: string | null;
}

/** The app: wires webhook events and the sweep to the evaluation. Dependencies come in so tests control them. */
export function createApp(options: AppOptions): ApplicationFunction {
  const deps: AppDeps = { appId: options.appId, now: options.now, providers: options.providers };
  return (app) => {
    const onPullRequest = async (context: Context<"pull_request" | "pull_request_review">) => {
      const { owner, repo } = context.repo();
      await evaluatePullRequest(context.octokit, { owner, repo, number: context.payload.pull_request.number }, deps, context.log);
    };
    app.on([...PULL_REQUEST_EVENTS], onPullRequest);
    app.on([...REVIEW_EVENTS], onPullRequest);

    app.on("issue_comment.created", async (context) => {
      // Only comments on pull requests that carry a command matter.
      if (!context.payload.issue.pull_request || !/^\s*\/jit\s/m.test(context.payload.comment.body)) return;
      if (context.payload.comment.user?.type === "Bot") return;
      const { owner, repo } = context.repo();
      await evaluatePullRequest(context.octokit, { owner, repo, number: context.payload.issue.number }, deps, context.log);
    });

    // Someone joined or left a team: any pending request of the organization may be gated by it.
    app.on("membership", async (context) => {
      const org = context.payload.organization;
      const pending = await searchOpenRequests(context.octokit, { login: org.login, type: "Organization" }, "jit:pending");
      for (const ref of pending) await evaluatePullRequest(context.octokit, ref, deps, context.log);
    });

    if (options.sweepSchedule) scheduleSweeps(app, deps, options.sweepSchedule);
  };
}
