import type { Octokit } from "@octokit/rest";

/**
 * What people do on GitHub, through the REST API (so the in-memory GitHub sees the same calls a
 * real one would): open a request, push to it, delete a grant through a pull request.
 */
export interface RepoRef {
  owner: string;
  repo: string;
}

const base64 = (text: string) => Buffer.from(text).toString("base64");

/** A branch from the default branch's head, one file added, a pull request; its number (undefined: GitHub refused it). */
export async function openRequest(gh: Octokit, ref: RepoRef, o: { branch: string; path: string; content: string; title?: string; body?: string }): Promise<number | undefined> {
  const { data: main } = await gh.rest.git.getRef({ ...ref, ref: "heads/main" });
  await gh.rest.git.createRef({ ...ref, ref: `refs/heads/${o.branch}`, sha: main.object.sha });
  const existing = await blobOn(gh, ref, o.path, o.branch);
  await gh.rest.repos.createOrUpdateFileContents({ ...ref, path: o.path, branch: o.branch, message: `request ${o.path}`, content: base64(o.content), ...(existing ? { sha: existing } : {}) });
  try {
    const { data } = await gh.rest.pulls.create({ ...ref, head: o.branch, base: "main", title: o.title ?? `jit: ${o.path}`, ...(o.body ? { body: o.body } : {}) });
    return data.number;
  } catch (error) {
    if ((error as { status?: number }).status === 422) return undefined; // nothing to merge (the same file is already on main)
    throw error;
  }
}

/** A commit on a branch changing one file. */
export async function push(gh: Octokit, ref: RepoRef, o: { branch: string; path: string; content: string }): Promise<void> {
  const sha = await blobOn(gh, ref, o.path, o.branch);
  await gh.rest.repos.createOrUpdateFileContents({ ...ref, path: o.path, branch: o.branch, message: `change ${o.path}`, content: base64(o.content), ...(sha ? { sha } : {}) });
}

/** A pull request deleting a file from the default branch, merged by its author; its number (undefined: the file is not there). */
export async function deleteThroughPullRequest(gh: Octokit, ref: RepoRef, o: { branch: string; path: string }): Promise<number | undefined> {
  const sha = await blobOn(gh, ref, o.path, "main");
  if (!sha) return undefined;
  const { data: main } = await gh.rest.git.getRef({ ...ref, ref: "heads/main" });
  await gh.rest.git.createRef({ ...ref, ref: `refs/heads/${o.branch}`, sha: main.object.sha });
  await gh.rest.repos.deleteFile({ ...ref, path: o.path, branch: o.branch, sha, message: `remove ${o.path}` });
  const { data } = await gh.rest.pulls.create({ ...ref, head: o.branch, base: "main", title: `remove ${o.path}` });
  await gh.rest.pulls.merge({ ...ref, pull_number: data.number, merge_method: "squash" });
  return data.number;
}

async function blobOn(gh: Octokit, ref: RepoRef, path: string, branch: string): Promise<string | undefined> {
  try {
    const { data } = await gh.rest.repos.getContent({ ...ref, path, ref: branch });
    return Array.isArray(data) ? undefined : data.sha;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  }
}
