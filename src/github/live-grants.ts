import { targetOf } from "../lifecycle/live.js";
import type { RequestSnapshot } from "../lifecycle/snapshot.js";
import type { GrantTarget } from "../providers/types.js";
import type { GitHub, RepoRef } from "./client.js";
import { readStatusState } from "./snapshot.js";

/**
 * The other live grants of a repository, for reference counting at revoke time. Liveness comes
 * from GitHub (merged PRs labelled `jit:approved`, one search); what each grant gives comes from
 * its status comment, which never changes once applied, so it is cached by PR.
 */
interface LiveGrant {
  path: string;
  target: GrantTarget;
}
const grants = new Map<string, LiveGrant | null>();
const MAX_CACHED = 5_000;

export type LiveGrantLister = (gh: GitHub, ref: RepoRef, except: number, appId: number, requester: string) => Promise<GrantTarget[]>;

/**
 * The repository's live grants (number and author) from one search, kept for a few seconds:
 * a burst of expiries in one repository then costs one search, not one each (the search quota is
 * 30 requests a minute). Applying a grant in this process forgets the list at once, so a grant
 * this process just made live is never missed; another replica's is found within the TTL and
 * the search index's own lag.
 */
const LIVE_TTL_MS = 15_000;
type LiveItem = { number: number; author: string; url: string };
/** The promise is cached, not its result: concurrent revokes share one search in flight. */
const liveLists = new Map<string, { at: number; items: Promise<LiveItem[]> }>();

/** Forgets every cached list and grant (tests: each starts from an empty cache). */
export function resetLiveGrantCaches(): void {
  liveLists.clear();
  grants.clear();
}

export function forgetLiveGrants(ref: RepoRef): void {
  liveLists.delete(`${ref.owner}/${ref.repo}`.toLowerCase());
}

async function liveList(gh: GitHub, ref: RepoRef): Promise<LiveItem[]> {
  const key = `${ref.owner}/${ref.repo}`.toLowerCase();
  const cached = liveLists.get(key);
  if (cached && Date.now() - cached.at < LIVE_TTL_MS) return cached.items;
  const q = `is:pr is:merged label:"jit:approved" repo:${ref.owner}/${ref.repo}`;
  const items = gh
    .paginate(gh.rest.search.issuesAndPullRequests, { q, per_page: 100 })
    .then((found) => found.map((i) => ({ number: i.number, author: i.user?.login ?? "", url: i.html_url })));
  liveLists.set(key, { at: Date.now(), items });
  items.catch(() => liveLists.delete(key)); // a failed search is not cached
  return items;
}

/**
 * Live grants of a repository; with `requester`, only theirs. A request PR's author is always
 * its requester (a rule every grant passed), so the author narrows the list to the grants that
 * can overlap: reference counting reads O(that person's grants), not O(all live grants).
 */
async function liveGrants(gh: GitHub, ref: RepoRef, appId: number, except?: number, requester?: string): Promise<Map<number, LiveGrant>> {
  const out = new Map<number, LiveGrant>();
  for (const item of await liveList(gh, ref)) {
    if (item.number === except) continue;
    if (requester && item.author.toLowerCase() !== requester.toLowerCase()) continue;
    const key = `${ref.owner}/${ref.repo}#${item.number}`;
    if (!grants.has(key)) {
      if (grants.size >= MAX_CACHED) grants.delete(grants.keys().next().value!);
      grants.set(key, await readGrant(gh, { ...ref, number: item.number }, item.url, appId));
    }
    const grant = grants.get(key);
    if (grant) out.set(item.number, grant);
  }
  return out;
}

export const listLiveGrants: LiveGrantLister = async (gh, ref, except, appId, requester) =>
  [...(await liveGrants(gh, ref, appId, except, requester)).values()].map((g) => g.target).filter((t) => t.requester.toLowerCase() === requester.toLowerCase());

/** The live grant whose file is at `path`, if any (a merged PR deleted it: the grant ends). */
export async function findLiveGrantByPath(gh: GitHub, ref: RepoRef, path: string, appId: number): Promise<number | undefined> {
  for (const [number, grant] of await liveGrants(gh, ref, appId)) if (grant.path === path) return number;
  return undefined;
}

/** This app's status comment on a PR tells what the grant gives; null when it has no applied grant. */
async function readGrant(gh: GitHub, ref: RepoRef & { number: number }, url: string, appId: number): Promise<LiveGrant | null> {
  const state = await readStatusState(gh, ref, appId);
  if (!state?.grant || !state.target || !state.starts_at || !state.expires_at || !state.path) return null;
  const s = { owner: ref.owner, repo: ref.repo, pr: { number: ref.number, url } } as RequestSnapshot;
  return { path: state.path, target: targetOf(s, state) };
}
