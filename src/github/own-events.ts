/**
 * Webhooks of what this process itself just did, and has already seen the outcome of: evaluating
 * them again would read GitHub's state only to find nothing to do (about five requests each, three
 * such webhooks per grant). Each note is taken after the evaluation that saw the outcome, so a
 * turn that stops half way leaves no note and the webhook is evaluated as before; another replica
 * or a restart knows no notes and evaluates too. Bounded; the oldest first.
 *
 * - the merge of a request, when the same turn went on to evaluate the merged request (at the head
 *   it merged): its `closed` webhook says nothing that evaluation did not see;
 * - a revert PR this process opened, at the commit it made: its `opened` webhook is an open
 *   deletion into the default branch, which gets nothing;
 * - that revert PR merged by this app (its author, the app's own account, merged it: pinned to the
 *   head whose content the app verified) once the request's record holds the end: its `closed`
 *   webhook would only name that request, whose record is final (noteRecordedEnd, below).
 */
const notes = new Map<string, true>();
const NOTES_KEPT = 10_000;

const keyOf = (ref: { owner: string; repo: string; number: number }, what: string) => `${ref.owner}/${ref.repo}#${ref.number}`.toLowerCase() + `\u0000${what}`;

function note(key: string): void {
  notes.delete(key);
  if (notes.size >= NOTES_KEPT) notes.delete(notes.keys().next().value!);
  notes.set(key, true);
}

/** The turn that merged `ref` at `headSha` has evaluated the merged request. */
export function noteMergeSeen(ref: { owner: string; repo: string; number: number }, headSha: string): void {
  note(keyOf(ref, `merged@${headSha}`));
}

/** This process opened revert PR `ref` at `headSha`, the commit it made. */
export function noteOwnRevert(ref: { owner: string; repo: string; number: number }, headSha: string): void {
  note(keyOf(ref, "revert"));
  note(keyOf(ref, `opened@${headSha}`));
}

/**
 * Ends recorded in full, by request (`repoId#number` → its merged revert PR): the grant revoked
 * and its revert PR merged, both in the request's final record. When that revert PR's merge is
 * evaluated (by another path than its own skipped webhook: the sweep, a person's merge), the
 * deletion names the request that added the file; that request's record is final, so it is not
 * queued for this revert PR. Bounded; the oldest first.
 */
const recordedEnds = new Map<string, number>();

/** Request `request` (`repoId`, `owner/repo#number`) has a final record naming `revertPr` as its merged revert PR. */
export function noteRecordedEnd(request: { repoId: number; owner: string; repo: string; number: number }, revertPr: number): void {
  const key = `${request.repoId}#${request.number}`;
  recordedEnds.delete(key);
  if (recordedEnds.size >= NOTES_KEPT) recordedEnds.delete(recordedEnds.keys().next().value!);
  recordedEnds.set(key, revertPr);
  note(keyOf({ ...request, number: revertPr }, "recorded"));
}

/** Whether `removal` is the merged revert PR this process saw recorded as the end of `request`. */
export function endRecordedBy(repoId: number, request: number, removal: number): boolean {
  return recordedEnds.get(`${repoId}#${request}`) === removal;
}

/** What a `pull_request` webhook says, as far as deciding whether it is one of this process's own. */
export interface PullRequestEventFacts {
  owner: string;
  repo: string;
  number: number;
  action: string;
  merged: boolean;
  headSha: string;
  authorId: number | undefined;
  mergedById: number | undefined;
}

/** Whether an evaluation of this webhook would find nothing this process has not already seen (pure but for the notes). */
export function alreadySeen(e: PullRequestEventFacts): boolean {
  // At the commit the app made: someone may have pushed to the branch before the PR was opened.
  if (e.action === "opened") return notes.has(keyOf(e, `opened@${e.headSha}`));
  if (e.action !== "closed" || !e.merged) return false;
  if (notes.has(keyOf(e, `merged@${e.headSha}`))) return true;
  const byItsAuthor = e.authorId !== undefined && e.mergedById === e.authorId;
  return byItsAuthor && notes.has(keyOf(e, "revert")) && notes.has(keyOf(e, "recorded"));
}

export function resetOwnEvents(): void {
  notes.clear();
  recordedEnds.clear();
}
