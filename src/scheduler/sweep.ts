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
 * One installation's pending-timeout sweep. Nothing pending: one request. Pending requests
 * in a repository: its policy (one request; the parse is cached) and a full evaluation of each
 * request old enough to have timed out — the evaluation decides, with the role's own timeout.
 */
export async function sweepPendingTimeouts(
  gh: GitHub,
  account: Account,
  now: Date,
  evaluate: (ref: RepoRef & { number: number }) => Promise<unknown>,
  isAccessRepository: (ref: RepoRef) => boolean = () => true,
): Promise<{ pending: number; evaluated: number }> {
  const pending = (await searchOpenRequests(gh, account, "jit:pending")).filter(isAccessRepository);
  let evaluated = 0;
  for (const requests of groupByRepository(pending).values()) {
    const ref = { owner: requests[0]!.owner, repo: requests[0]!.repo };
    const policy = await loadPolicyAt(gh, ref); // the contents API reads the default branch when no ref is given
    if (!policy?.ok) continue; // no policy or a broken one: its requests fail closed on their own events
    for (const request of timeoutCandidates(requests, policy.policy, now)) {
      await evaluate(request);
      evaluated++;
    }
  }
  return { pending: pending.length, evaluated };
}
