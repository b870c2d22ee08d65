import { createRequire } from "node:module";

/** Real webhook payloads from @octokit/webhooks-examples, adjusted to the test's repository. */
const require = createRequire(import.meta.url);
const events = require("@octokit/webhooks-examples") as { name: string; examples: Record<string, unknown>[] }[];

export function example(name: string, action: string): Record<string, any> {
  const event = events.find((e) => e.name === name);
  const found = event?.examples.find((e) => e.action === action);
  if (!found) throw new Error(`no example ${name}.${action} in @octokit/webhooks-examples`);
  return structuredClone(found) as Record<string, any>;
}

export const OWNER = "acme";
export const REPO = "access";
export const INSTALLATION_ID = 4242;

export interface PrFields {
  number: number;
  author: string;
  headSha: string;
  state?: "open" | "closed";
  merged?: boolean;
  draft?: boolean;
  labels?: string[];
  changedFiles?: number;
  createdAt?: string;
  /** When it was merged (default for a merged PR: 2026-11-29T13:00:00Z). */
  mergedAt?: string;
  fork?: boolean;
  /** The branch the PR targets; the default branch ("main") unless set. */
  baseRef?: string;
}

/** A pull request object (the webhook's and the REST API's share this shape), from a real example. */
export function pullRequest(f: PrFields): Record<string, any> {
  const pr = example("pull_request", "opened").pull_request;
  const repo = repository();
  return {
    ...pr,
    number: f.number,
    html_url: `https://github.com/${OWNER}/${REPO}/pull/${f.number}`,
    url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${f.number}`,
    state: f.state ?? "open",
    merged: f.merged ?? false,
    merged_at: f.merged ? (f.mergedAt ?? "2026-11-29T13:00:00Z") : null,
    draft: f.draft ?? false,
    user: { ...pr.user, login: f.author, type: "User" },
    labels: (f.labels ?? []).map((name, i) => ({ id: i + 1, name, color: "ededed", default: false })),
    changed_files: f.changedFiles ?? 1,
    created_at: f.createdAt ?? "2026-11-29T12:00:00Z",
    head: { ...pr.head, sha: f.headSha, ref: "request", repo: f.fork ? { ...repo, full_name: `${f.author}/${REPO}`, fork: true } : repo },
    base: { ...pr.base, ref: f.baseRef ?? "main", label: `${OWNER}:${f.baseRef ?? "main"}`, repo },
  };
}

export function repository(): Record<string, any> {
  const repo = example("pull_request", "opened").repository;
  return { ...repo, name: REPO, full_name: `${OWNER}/${REPO}`, default_branch: "main", owner: { ...repo.owner, login: OWNER } };
}

/** A webhook delivery for a pull request event, built on the real example of that action. */
export function pullRequestEvent(action: string, f: PrFields): Record<string, any> {
  const payload = example("pull_request", action);
  payload.number = f.number;
  payload.pull_request = pullRequest(f);
  payload.repository = repository();
  payload.installation = { id: INSTALLATION_ID, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg==" };
  return payload;
}

export function reviewEvent(action: "submitted" | "dismissed", f: PrFields, review: { login: string; state: string; commitId: string }): Record<string, any> {
  const payload = example("pull_request_review", action);
  payload.pull_request = pullRequest(f);
  payload.repository = repository();
  payload.installation = { id: INSTALLATION_ID };
  payload.review = { ...payload.review, user: { ...payload.review.user, login: review.login, type: "User" }, state: review.state.toLowerCase(), commit_id: review.commitId };
  return payload;
}

export function commentEvent(f: PrFields, comment: { login: string; body: string; onPullRequest?: boolean; id?: number; createdAt?: string }): Record<string, any> {
  const payload = example("issue_comment", "created");
  payload.repository = repository();
  payload.installation = { id: INSTALLATION_ID };
  payload.issue = { ...payload.issue, number: f.number, pull_request: comment.onPullRequest === false ? undefined : { url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${f.number}` } };
  payload.comment = {
    ...payload.comment,
    ...(comment.id !== undefined ? { id: comment.id } : {}),
    ...(comment.createdAt !== undefined ? { created_at: comment.createdAt, updated_at: comment.createdAt } : {}),
    body: comment.body,
    user: { ...payload.comment.user, login: comment.login, type: "User" },
  };
  return payload;
}
