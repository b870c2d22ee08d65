import type { GitHub, RepoRef } from "./client.js";

export interface RevertRequest {
  branch: string;
  path: string;
  /** The grant file's blob on the default branch (the contents API needs it to delete). */
  blobSha: string;
  title: string;
  body: string;
  defaultBranch: string;
}

export interface RevertOutcome {
  number: number;
  url: string;
  merged: boolean;
  /** Why the merge did not happen (branch protection, a conflict). */
  blocked?: string;
}

export const REVERT_BLOCKED_LABEL = "jit:revert-blocked";

const status = (error: unknown) => (error as { status?: number }).status;

/**
 * A PR that deletes one grant file, merged through the REST API. Every step tolerates having
 * been done before (the branch name is deterministic), so a retry, a redelivery or a second
 * replica finds the same PR instead of opening another. A blocked merge leaves the PR open,
 * labelled, and is reported, never hidden.
 */
export async function openAndMergeRevert(gh: GitHub, ref: RepoRef, r: RevertRequest): Promise<RevertOutcome> {
  const find = async () => {
    const { data } = await gh.rest.pulls.list({ ...ref, head: `${ref.owner}:${r.branch}`, state: "all", per_page: 1 });
    return data[0] ? { number: data[0].number, url: data[0].html_url, merged: !!data[0].merged_at, open: data[0].state === "open" } : undefined;
  };
  let pr = await find();
  if (!pr) {
    const { data: base } = await gh.rest.git.getRef({ ...ref, ref: `heads/${r.defaultBranch}` });
    try {
      await gh.rest.git.createRef({ ...ref, ref: `refs/heads/${r.branch}`, sha: base.object.sha });
    } catch (error) {
      if (status(error) !== 422) throw error; // 422: the branch exists from an earlier attempt
    }
    try {
      await gh.rest.repos.deleteFile({ ...ref, path: r.path, sha: r.blobSha, branch: r.branch, message: r.title });
    } catch (error) {
      if (status(error) !== 404 && status(error) !== 409 && status(error) !== 422) throw error; // already deleted on the branch
    }
    try {
      const { data: created } = await gh.rest.pulls.create({ ...ref, head: r.branch, base: r.defaultBranch, title: r.title, body: r.body });
      pr = { number: created.number, url: created.html_url, merged: false, open: true };
    } catch (error) {
      // 422: another replica opened it between our look-up and now.
      pr = status(error) === 422 ? await find() : undefined;
      if (!pr) throw error;
    }
  }
  if (pr.merged || !pr.open) return { number: pr.number, url: pr.url, merged: pr.merged };
  try {
    await gh.rest.pulls.merge({ ...ref, pull_number: pr.number, merge_method: "squash", commit_title: `${r.title} (#${pr.number})`, commit_message: r.body });
    return { number: pr.number, url: pr.url, merged: true };
  } catch (error) {
    // Another replica may have merged it a moment ago (GitHub answers 405 for a merged PR too).
    const { data: now } = await gh.rest.pulls.get({ ...ref, pull_number: pr.number });
    if (now.merged) return { number: pr.number, url: pr.url, merged: true };
    const blocked = (error as Error).message.replace(/[\r\n]+/g, " ").slice(0, 300);
    await gh.rest.issues.addLabels({ ...ref, issue_number: pr.number, labels: [REVERT_BLOCKED_LABEL] });
    return { number: pr.number, url: pr.url, merged: false, blocked };
  }
}
