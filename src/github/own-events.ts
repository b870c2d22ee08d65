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
 *   webhook would only name that request, whose record is final (github/recorded-ends.ts).
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

/** The end whose revert PR is `ref` is in its request's record (noted after that record was written). */
export function noteRevertRecorded(ref: { owner: string; repo: string; number: number }): void {
  note(keyOf(ref, "recorded"));
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
}
