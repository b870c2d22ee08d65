import type { Octokit } from "@octokit/rest";

/**
 * The slice of Octokit the app uses: REST endpoint methods and pagination. Probot's
 * installation client and the CLI's @octokit/rest client both fit.
 */
export type GitHub = Pick<Octokit, "rest" | "paginate">;

export interface RepoRef {
  owner: string;
  repo: string;
}

/** GitHub answered 404 (missing, or invisible to this installation). */
export function isNotFound(error: unknown): boolean {
  return (error as { status?: number } | null)?.status === 404;
}

/**
 * Reads a file's bytes at a ref through the contents API; null when it does not exist.
 * Preferred over git.getBlob for untrusted files: the contents API reports the size and
 * sends no content above 1 MB, so a huge file is refused without being downloaded.
 */
export async function readFileAt(gh: GitHub, ref: RepoRef & { path: string; ref?: string }, maxBytes: number): Promise<
  { kind: "file"; content: Uint8Array; sha: string } | { kind: "too-large"; size: number } | { kind: "not-a-file" } | null
> {
  let data: unknown;
  try {
    ({ data } = await gh.rest.repos.getContent({ owner: ref.owner, repo: ref.repo, path: ref.path, ...(ref.ref ? { ref: ref.ref } : {}) }));
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  const file = data as { type?: string; size?: number; content?: string; encoding?: string; sha?: string };
  if (Array.isArray(data) || file.type !== "file") return { kind: "not-a-file" };
  if ((file.size ?? 0) > maxBytes || file.encoding !== "base64") return { kind: "too-large", size: file.size ?? 0 };
  return { kind: "file", content: Buffer.from(file.content ?? "", "base64"), sha: file.sha ?? "" };
}
