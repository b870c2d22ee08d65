import type { GitHub, RepoRef } from "../github/client.js";
import { rememberRequester, recordOf, type GrantFile } from "../github/live-grants.js";
import type { CommentState } from "../lifecycle/codec.js";
import { STATUS_LABELS } from "../lifecycle/status.js";
import { REVERT_BLOCKED_LABEL } from "../github/revert.js";

/** A grant file on the default branch and the request whose record names it (path and blob). */
export interface FoundRecord {
  number: number;
  file: GrantFile;
  state: CommentState;
}

/** Closed PRs read per page (GitHub's maximum). */
const PAGE = 100;
/** Pages read beyond one per hundred grant files, before the files still unmatched are looked up one by one. */
const SPARE_PAGES = 3;

/**
 * The start-up rebuild's cheap path: the records of the grant files on the default branch, found
 * from the repository's closed pull requests (a page lists a hundred with their heads) and one
 * record read per request that shows a grant that may still matter (`jit:approved`, `jit:pending`,
 * `jit:revert-blocked`). A record names its grant file and blob, so a file matches the request
 * whose record holds exactly that content; the requester it records is the blob's (content-
 * addressed), so no blob is read either. About one request per live grant, where looking up each
 * file's history costs four.
 *
 * Labels are only a way to skip reads: a request whose labels a person removed, a file pushed
 * straight to the branch, a request older than the pages read — every file not matched here is
 * returned in `unmatched`, for the per-file lookup (its history, its PR, its record) as before.
 */
export async function recordsOfGrantFiles(gh: GitHub, ref: RepoRef & { repoId: number }, files: readonly GrantFile[], appId: number): Promise<{ found: FoundRecord[]; unmatched: GrantFile[] }> {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const found: FoundRecord[] = [];
  const matched = new Set<string>();
  const claims = new Map<string, FoundRecord[]>();
  const pages = Math.ceil(files.length / PAGE) + SPARE_PAGES;
  const shown = new Set<string>([STATUS_LABELS.APPROVED, STATUS_LABELS.PENDING, REVERT_BLOCKED_LABEL]);
  for (let page = 1; page <= pages && matched.size < files.length; page++) {
    const { data: pulls } = await gh.rest.pulls.list({ owner: ref.owner, repo: ref.repo, state: "closed", sort: "updated", direction: "desc", per_page: PAGE, page });
    const candidates = pulls.filter((pr) => pr.merged_at && pr.labels.some((l) => shown.has(l.name)));
    const states = await Promise.all(candidates.map((pr) => recordOf(gh, { ...ref, number: pr.number }, pr.head.sha, appId)));
    for (const [i, pr] of candidates.entries()) {
      const state = states[i];
      const file = state?.path !== undefined ? byPath.get(state.path) : undefined;
      // Only a record that still holds its file claims it: an ended request whose content was
      // requested again (same path, same blob) names the file too, and a label moved onto it must
      // not hide the live request behind it.
      if (!state || !file || state.blob !== file.blobSha || !holdsItsFile(state)) continue;
      claims.set(file.path, [...(claims.get(file.path) ?? []), { number: pr.number, file, state }]);
    }
    if (pulls.length < PAGE) break;
  }
  // Two records claiming one file: neither is trusted here, the file's own history decides.
  for (const [path, [only, ...more]] of claims) {
    if (!only || more.length > 0) continue;
    found.push(only);
    matched.add(path);
    const requester = only.state.grant?.requester;
    if (requester) rememberRequester(only.file.blobSha, requester);
  }
  return { found, unmatched: files.filter((f) => !matched.has(f.path)) };
}

/**
 * A record whose grant file is still its own on the default branch: approved (live, or ended but
 * not yet revoked), on its way (merged, not yet applied), or ended with its revert PR still owed.
 * Anything else ended, and its revert removed its file (or a later request added that content again).
 */
function holdsItsFile(state: CommentState): boolean {
  if (state.revert_pending) return true;
  return state.status === null || state.status === undefined || state.status === "APPROVED" || state.status === "PENDING" || state.status === "SCHEDULED" || state.status === "APPLYING";
}
