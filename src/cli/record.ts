import type { GitHub, RepoRef } from "../github/client.js";
import { recordNumberOf } from "../github/record.js";
import { readState, type CommentState } from "../lifecycle/codec.js";
import { isTrusted, type TrustedApp } from "./context.js";

/**
 * The CLI's reader of a grant's record: the trusted app's `jit-access` check run on the request's
 * head commit, whose `output.text` is the status comment's body with its state block. Only that
 * app can write the run; the status comment, labels and commit trailers can be written by anyone
 * with access to the repository, so the CLI reads none of them as the truth.
 *
 * Kept apart from the app's own loader (src/github/record.ts): the CLI identifies the app by id
 * or slug, reads every page, and never acts on what it reads.
 */
const CHECK_NAME = "jit-access";

export type PrRef = RepoRef & { number: number };

/** The record of a request PR, or undefined when the trusted app has written none. */
export async function readRecord(gh: GitHub, ref: PrRef, app: TrustedApp): Promise<CommentState | undefined> {
  return readRecordAt(gh, ref, await headOf(gh, ref), app);
}

/** A request's head commit, and the id of its repository (which names its records: see github/record.ts). */
export interface Head {
  sha: string;
  repoId: number;
}

export async function headOf(gh: GitHub, ref: PrRef): Promise<Head> {
  const { data: pr } = await gh.rest.pulls.get({ owner: ref.owner, repo: ref.repo, pull_number: ref.number });
  return { sha: pr.head.sha, repoId: pr.base.repo.id };
}

/** The record of a request PR on a known head commit (a merged PR's head never changes). */
export async function readRecordAt(gh: GitHub, ref: PrRef, head: Head, app: TrustedApp): Promise<CommentState | undefined> {
  const runs = await gh.paginate(gh.rest.checks.listForRef, {
    owner: ref.owner,
    repo: ref.repo,
    ref: head.sha,
    check_name: CHECK_NAME,
    filter: "all",
    per_page: 100,
    ...(app.id !== undefined ? { app_id: app.id } : {}),
  });
  // The query names the app when its id is known; the answer is filtered again either way. A
  // commit can be the head of several PRs: a run belongs to the PR its external_id names (as the
  // app keys it: by repository id, or by name for records written before that).
  const newest = runs
    .filter((run) => run.name === CHECK_NAME && isTrusted(app, run.app) && recordNumberOf(run.external_id, head.repoId) === ref.number)
    .sort((a, b) => b.id - a.id)[0];
  if (!newest) return undefined;
  // The run itself, not the list's copy: its output is read where GitHub serves it whole.
  const { data: run } = await gh.rest.checks.get({ owner: ref.owner, repo: ref.repo, check_run_id: newest.id });
  if (!isTrusted(app, run.app)) return undefined;
  return readState(run.output.text ?? "");
}
