import type { ApplicationFunction, Context } from "probot";
import { evaluatePullRequest, type AppDeps } from "./handlers/evaluate.js";

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

/** The app: wires webhook events to the evaluation. Dependencies come in so tests control them. */
export function createApp(deps: AppDeps): ApplicationFunction {
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
  };
}
