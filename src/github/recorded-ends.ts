/**
 * Ends this process saw recorded in full: the grant revoked and its revert PR merged, both in the
 * request's record (a final record: nothing changes it afterwards). When that revert PR's own
 * webhooks are evaluated, the merged deletion names the request that added the file; evaluating
 * that request again would only read its final record and find nothing to do (about five reads),
 * so it is not queued for this revert PR. Another revert or deletion of the same request, another
 * replica, or a restart: queued as before. Bounded; the oldest first.
 */
const recorded = new Map<string, number>();
const ENDS_KEPT = 10_000;

const key = (repoId: number, request: number) => `${repoId}#${request}`;

/** Request `request` of repository `repoId` has a final record naming `revertPr` as its merged revert PR. */
export function noteRecordedEnd(repoId: number, request: number, revertPr: number): void {
  const k = key(repoId, request);
  recorded.delete(k);
  if (recorded.size >= ENDS_KEPT) recorded.delete(recorded.keys().next().value!);
  recorded.set(k, revertPr);
}

/** Whether `removal` is the merged revert PR this process saw recorded as the end of `request`. */
export function endRecordedBy(repoId: number, request: number, removal: number): boolean {
  return recorded.get(key(repoId, request)) === removal;
}

export function resetRecordedEnds(): void {
  recorded.clear();
}
