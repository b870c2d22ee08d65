import { CODEOWNERS_PATHS, POLICY_PATH } from "../policy/paths.js";
import type { GitHub, RepoRef } from "./client.js";

/**
 * What a move of the default branch (`from` → `to`) left of the files that judge requests, read
 * at `from` (github/snapshot.ts, JudgingFiles): one compare instead of reading the policy,
 * CODEOWNERS and their provenance at `to` again. The evaluation that merges a request reads them
 * at the head before its merge; the merged request's evaluation, in the same turn, finds the
 * branch one squash commit further, which changed only the grant file.
 *
 * - "files": `to` descends from `from` and no changed path is (or contains, as a directory) the
 *   policy or a CODEOWNERS location: those files have the same content at `to`.
 * - "files-and-history": the same, by exactly one commit: the last commit of each of those paths
 *   is also the same, so their provenance (which is checked for that last commit) holds as well.
 *   With more commits a path could have been changed and changed back in between (content pushed
 *   back has a new last commit, and provenance must look at it), so it is checked again.
 * - undefined: anything else (diverged, not known whole, a judging path touched): read afresh.
 */
export type JudgingMove = "files" | "files-and-history" | undefined;

/** GitHub's compare lists at most 300 files; a list that long may not be whole. */
const MAX_COMPARED_FILES = 300;
const JUDGING_PATHS: readonly string[] = [POLICY_PATH, ...CODEOWNERS_PATHS];

interface Compared {
  status?: string;
  ahead_by?: number;
  behind_by?: number;
  files?: { filename: string; previous_filename?: string }[];
}

/** The verdict from GitHub's compare of `from...to` (pure). */
export function judgingMove(cmp: Compared): JudgingMove {
  if (cmp.status !== "ahead" || cmp.behind_by !== 0 || !cmp.ahead_by || !cmp.files || cmp.files.length >= MAX_COMPARED_FILES) return undefined;
  const touches = (path: string | undefined) => path !== undefined && JUDGING_PATHS.some((j) => j === path || j.startsWith(`${path}/`));
  if (cmp.files.some((f) => touches(f.filename) || touches(f.previous_filename))) return undefined;
  return cmp.ahead_by === 1 ? "files-and-history" : "files";
}

/** One compare of the two commits; a failure reads afresh (undefined). */
export async function judgingMoveBetween(gh: GitHub, ref: RepoRef, from: string, to: string): Promise<JudgingMove> {
  try {
    const { data } = await gh.rest.repos.compareCommitsWithBasehead({ owner: ref.owner, repo: ref.repo, basehead: `${from}...${to}` });
    return judgingMove(data as Compared);
  } catch {
    return undefined;
  }
}
