import type { GitHub, RepoRef } from "./client.js";

/**
 * Which merged request PRs added a grant file to the default branch, from git history alone:
 * the commits that touched the path (newest first), and the pull requests GitHub associates with
 * each. Labels and comments play no part, so nobody can hide a grant from this by editing them.
 * Grant files are immutable once merged, so a path's history is "added, then deleted" (perhaps
 * more than once, if a name is reused): a few commits are enough.
 */
const COMMITS_LOOKED_AT = 5;

export async function requestsThatAdded(gh: GitHub, ref: RepoRef, defaultBranch: string, path: string): Promise<{ number: number; headSha: string }[]> {
  const { data: commits } = await gh.rest.repos.listCommits({ owner: ref.owner, repo: ref.repo, sha: defaultBranch, path, per_page: COMMITS_LOOKED_AT });
  const found = new Map<number, string>();
  for (const commit of commits) {
    const { data: pulls } = await gh.rest.repos.listPullRequestsAssociatedWithCommit({ owner: ref.owner, repo: ref.repo, commit_sha: commit.sha });
    // Not filtered by the PR's base name: the commit is on the default branch, and a PR merged
    // before the default branch was renamed still names the old branch (GitHub retargets only open
    // PRs). A PR merged into another branch whose commit reached the default branch later is
    // judged by its own record: base-branch.ts rejected it, so it gives nothing.
    for (const pr of pulls) if (pr.merged_at) found.set(pr.number, pr.head.sha);
  }
  return [...found].map(([number, headSha]) => ({ number, headSha }));
}
