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
 * Live grants of a repository; with `requester`, only theirs. A request PR's author is always
 * its requester (a rule every grant passed), so `author:` narrows the search to the grants that
 * can overlap: reference counting costs O(that person's grants), not O(all live grants).
 */
async function liveGrants(gh: GitHub, ref: RepoRef, appId: number, except?: number, requester?: string): Promise<Map<number, LiveGrant>> {
  const q = `is:pr is:merged label:"jit:approved" repo:${ref.owner}/${ref.repo}${requester ? ` author:${requester}` : ""}`;
  const items = await gh.paginate(gh.rest.search.issuesAndPullRequests, { q, per_page: 100 });
  const out = new Map<number, LiveGrant>();
  for (const item of items) {
    if (item.number === except) continue;
    const key = `${ref.owner}/${ref.repo}#${item.number}`;
    if (!grants.has(key)) {
      if (grants.size >= MAX_CACHED) grants.delete(grants.keys().next().value!);
      grants.set(key, await readGrant(gh, { ...ref, number: item.number }, item.html_url, appId));
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
