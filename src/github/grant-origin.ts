import { fixedRead } from "./fixed-reads.js";
import type { GitHub, RepoRef } from "./client.js";

/**
 * Which merged request PRs added a grant file to the default branch, from git history alone:
 * the commits that touched the path (newest first), and the pull requests GitHub associates with
 * each. Labels and comments play no part, so nobody can hide a grant from this by editing them.
 * Grant files are immutable once merged, so a path's history is "added, then deleted" (perhaps
 * more than once, if a name is reused): a few commits are enough.
 */
const COMMITS_LOOKED_AT = 5;

export type Origin = { number: number; headSha: string };

/**
 * requestsThatAdded as of the default branch's commit `at` (the one the evaluation read as its
 * head): the history of a path up to a commit does not change, so a merged deletion evaluated again
 * while the branch has not moved (its `opened` and `closed` webhooks, say) reads it once
 * (github/fixed-reads.ts). Without `at`, read.
 */
export function requestsThatAddedAt(gh: GitHub, ref: RepoRef, defaultBranch: string, path: string, at: { repoId: number; commit: string } | undefined): Promise<Origin[]> {
  return fixedRead(at && `origins\u0000${at.repoId}@${at.commit}\u0000${path}`, () => requestsThatAdded(gh, ref, defaultBranch, path));
}

/** The merged PRs of the default branch GitHub associates with a commit (`pullsOf` lets a caller cache them: they do not change). */
export async function requestsThatAdded(gh: GitHub, ref: RepoRef, defaultBranch: string, path: string, pullsOf = mergedPullsOf): Promise<Origin[]> {
  const { data: commits } = await gh.rest.repos.listCommits({ owner: ref.owner, repo: ref.repo, sha: defaultBranch, path, per_page: COMMITS_LOOKED_AT });
  const found = new Map<number, string>();
  for (const commit of commits) for (const pr of await pullsOf(gh, ref, defaultBranch, commit.sha)) found.set(pr.number, pr.headSha);
  return [...found].map(([number, headSha]) => ({ number, headSha }));
}

export async function mergedPullsOf(gh: GitHub, ref: RepoRef, defaultBranch: string, sha: string): Promise<Origin[]> {
  const { data: pulls } = await gh.rest.repos.listPullRequestsAssociatedWithCommit({ owner: ref.owner, repo: ref.repo, commit_sha: sha });
  // Not filtered by the PR's base name: the commit is on the default branch, and a PR merged
  // before the default branch was renamed still names the old branch (GitHub retargets only open
  // PRs). A PR merged into another branch whose commit reached the default branch later is
  // judged by its own record: base-branch.ts rejected it, so it gives nothing.
  return pulls.filter((pr) => pr.merged_at).map((pr) => ({ number: pr.number, headSha: pr.head.sha }));
}
