import type { GitHub, RepoRef } from "../github/client.js";
import { loadPolicyAt } from "../github/snapshot.js";
import type { LoadedPolicy } from "../policy/load.js";

/**
 * Periodic work, found from GitHub's state alone so it survives restarts and needs no memory:
 * open request PRs carry a status label. One issue search per installation finds them all —
 * listing every repository instead would cost a request per repository per sweep (500 repos
 * swept every minute is 30,000 requests an hour, beyond the rate limit). Search results can
 * lag a few seconds behind; the next sweep catches what one misses.
 */
export interface Account {
  login: string;
  type: string;
}

export interface LabelledRequest extends RepoRef {
  number: number;
  createdAt: string;
  updatedAt: string;
}

/** Request PRs of an installation's account with a label; with `since`, only those updated since. */
export async function searchOpenRequests(gh: GitHub, account: Account, label: string, state: "open" | "merged" = "open", since?: Date): Promise<LabelledRequest[]> {
  const scope = account.type === "Organization" ? "org" : "user";
  const updated = since ? ` updated:>=${since.toISOString().slice(0, 19)}Z` : "";
  const q = `is:pr is:${state} label:"${label}" ${scope}:${account.login}${updated}`;
  return toRequests(await gh.paginate(gh.rest.search.issuesAndPullRequests, { q, per_page: 100 }));
}

/** Every PR of an installation's account updated since `since`, whatever its labels or state. */
export async function searchUpdatedRequests(gh: GitHub, account: Account, since: Date): Promise<LabelledRequest[]> {
  const scope = account.type === "Organization" ? "org" : "user";
  const q = `is:pr ${scope}:${account.login} updated:>=${since.toISOString().slice(0, 19)}Z`;
  return toRequests(await gh.paginate(gh.rest.search.issuesAndPullRequests, { q, per_page: 100 }));
}

function toRequests(items: { repository_url: string; number: number; created_at: string; updated_at: string }[]): LabelledRequest[] {
  return items.map((i) => {
    const [owner, repo] = i.repository_url.split("/").slice(-2) as [string, string];
    return { owner, repo, number: i.number, createdAt: i.created_at, updatedAt: i.updated_at };
  });
}

/** The shortest pending_timeout of any role: no request younger than this can have timed out. */
export function shortestPendingTimeout(policy: LoadedPolicy): number {
  let shortest = Infinity;
  for (const [resource, r] of Object.entries(policy.raw.resources)) {
    for (const role of Object.keys(r.roles)) shortest = Math.min(shortest, policy.role(resource, role)!.pendingTimeoutMs);
  }
  return shortest;
}

/** Requests that may have timed out (pure): older than the shortest timeout of their repository's policy. */
export function timeoutCandidates<T extends { createdAt: string }>(pending: readonly T[], policy: LoadedPolicy, now: Date): T[] {
  const shortest = shortestPendingTimeout(policy);
  return pending.filter((p) => now.getTime() - Date.parse(p.createdAt) > shortest);
}

export function groupByRepository<T extends RepoRef>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = `${item.owner}/${item.repo}`;
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return groups;
}

/**
 * Whether a pending request is old enough to have timed out, by its repository's policy: read once
 * per repository per sweep (one request; the parse is cached), and only for requests the sweep
 * reaches. No policy or a broken one: never (its requests fail closed on their own events).
 */
export function pendingTimeoutCandidates(gh: GitHub, now: Date): (request: LabelledRequest) => Promise<boolean> {
  const policies = new Map<string, Promise<LoadedPolicy | undefined>>();
  return async (request) => {
    const key = `${request.owner}/${request.repo}`.toLowerCase();
    let policy = policies.get(key);
    if (!policy) {
      // The contents API reads the default branch when no ref is given.
      policy = loadPolicyAt(gh, { owner: request.owner, repo: request.repo }).then((p) => (p?.ok ? p.policy : undefined));
      policies.set(key, policy);
    }
    const loaded = await policy;
    return loaded !== undefined && timeoutCandidates([request], loaded, now).length === 1;
  };
}

/**
 * `items` in a stable order (by `key`), starting after `after`'s place and wrapping around: each
 * sweep takes up where the last one stopped, so a cap on the work still reaches every item in turn.
 */
export function rotate<T>(items: readonly T[], key: (item: T) => string, after: string | undefined): T[] {
  const sorted = [...new Map(items.map((i) => [key(i), i])).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const start = after === undefined ? 0 : sorted.findIndex(([k]) => k > after);
  const at = start < 0 ? 0 : start;
  return [...sorted.slice(at), ...sorted.slice(0, at)].map(([, item]) => item);
}

/**
 * GitHub's answer when an installation's rate limit is spent: 403 or 429 with
 * `x-ratelimit-remaining: 0`. (A 403 without it is a permission problem; a secondary rate limit
 * says `retry-after` and is left to the throttling plugin.)
 */
export function isRateLimited(error: unknown): boolean {
  const e = error as { status?: number; response?: { headers?: Record<string, string | number | undefined> } } | null;
  if (e?.status !== 403 && e?.status !== 429) return false;
  return String(e.response?.headers?.["x-ratelimit-remaining"]) === "0";
}
