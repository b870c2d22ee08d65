import { CHECK_NAME } from "../lifecycle/status.js";
import type { CheckRun } from "../lifecycle/snapshot.js";
import type { GitHub, RepoRef } from "./client.js";

/**
 * The grant's record lives in this app's `jit-access` check run on the request's head commit
 * (docs/reference/invariants.md, invariant 7). GitHub lets only the App that created a check run change it: people
 * with write access can edit or delete any comment and any label, but not this. The run's
 * `output.text` holds the status comment's full body, state block included; the comment on the
 * PR is a copy for people, restored from here when someone changes it.
 *
 * A merged PR's head commit never changes again, so the record of a merged grant stays where it
 * was written. Check runs named `jit-access` from other apps (a workflow's GITHUB_TOKEN can make
 * one) are never read: the query names this app, and the answer is filtered by app id again.
 *
 * A commit can be the head of more than one PR (anyone can open a second PR from the same branch,
 * or push the same commit elsewhere), so a record belongs to its PR, not to its commit: each run
 * carries `external_id` = `repo:<repository id>#number`, and a PR reads and writes only its own. A
 * run of another PR on the same head is reported (`claimedBy`): that request fails closed.
 *
 * The repository's id, not its name: a repository keeps its id when it is renamed or transferred,
 * and its records must stay readable then. Runs written before records were keyed by id carry the
 * legacy key `owner/repo#number` and are still read, whatever name it gives: the runs listed are
 * this repository's own, written in it by this app (the query and the filter name the app), so
 * the name in a legacy key is only what the repository was called when it was written.
 */
export type { CheckRun } from "../lifecycle/snapshot.js";

/** Which request's record a check run holds: the repository (by id) and the PR's number. */
export interface RecordRef extends RepoRef {
  number: number;
  /** GitHub's id of the repository (`pr.base.repo.id`): stable through renames and transfers. */
  repoId: number;
}

/** The external id of a request's check runs: which PR a record belongs to. */
export function recordKey(ref: { repoId: number; number: number }): string {
  return `repo:${ref.repoId}#${ref.number}`;
}

/** `owner/repo#number`: the key of records written before they were keyed by repository id. */
const LEGACY_KEY = /^[^/#:\s]+\/[^/#\s]+#(\d+)$/;
const KEY = /^repo:(\d+)#(\d+)$/;

/** The PR number a run's key names, if it is a record of this repository (`repoId`). The CLI reads records by it too. */
export function recordNumberOf(externalId: string | null | undefined, repoId: number): number | undefined {
  const key = KEY.exec(externalId ?? "");
  if (key) return Number(key[1]) === repoId ? Number(key[2]) : undefined;
  const legacy = LEGACY_KEY.exec(externalId ?? "");
  return legacy ? Number(legacy[1]) : undefined;
}

/**
 * The PR's record on a commit, and the lowest-numbered other PR whose record is on it too.
 * `appId` undefined: the CLI, which only displays and does not know the id (any app's run, never
 * trusted to act on).
 */
export async function loadCheck(gh: GitHub, ref: RecordRef, headSha: string, appId: number | undefined): Promise<{ run?: CheckRun; claimedBy?: number }> {
  // Every page: one page of 100 could be filled with other runs (say, written before a claimed head
  // got none: see RecordStore), pushing the record out of sight, and a grant whose record is not seen
  // would be applied again.
  const runs = await gh.paginate(gh.rest.checks.listForRef, { owner: ref.owner, repo: ref.repo, ref: headSha, check_name: CHECK_NAME, ...(appId === undefined ? {} : { app_id: appId }), filter: "all", per_page: 100 });
  const ours = runs.filter((run) => (appId === undefined ? !!run.app : run.app?.id === appId));
  // Several runs of one PR can exist on a commit (a completed run is replaced, never reopened): the newest holds the record.
  const mine = ours.filter((run) => recordNumberOf(run.external_id, ref.repoId) === ref.number).sort((a, b) => b.id - a.id)[0];
  const others = ours.map((run) => recordNumberOf(run.external_id, ref.repoId)).filter((n): n is number => n !== undefined && n !== ref.number);
  return { ...(mine ? { run: toCheckRun(mine) } : {}), ...(others.length ? { claimedBy: Math.min(...others) } : {}) };
}

export async function readCheck(gh: GitHub, ref: RepoRef, id: number): Promise<CheckRun> {
  const { data } = await gh.rest.checks.get({ owner: ref.owner, repo: ref.repo, check_run_id: id });
  return toCheckRun(data);
}

function toCheckRun(run: { id: number; status: string; conclusion: string | null; output: { title: string | null; summary: string | null; text?: string | null } }): CheckRun {
  return { id: run.id, status: run.status, conclusion: run.conclusion, title: run.output.title ?? "", summary: run.output.summary ?? "", text: run.output.text ?? "" };
}
