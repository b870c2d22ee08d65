import type { GrantRecord } from "./record.js";
import type { RequestSnapshot } from "./snapshot.js";

/**
 * A record as a decision writes it: what was announced stays recorded through every later state,
 * and a request's record names its grant file and blob (the exact content it refers to). A merged
 * request's record of a grant names its requester by id too (the PR's author: see GrantRecord),
 * whichever state first records the grant (SCHEDULED, APPLYING, a bypass).
 */
export function completeRecord(s: RequestSnapshot, state: Omit<GrantRecord, "v">): GrantRecord {
  const notified = [...new Set([...((s.record?.notified ?? s.notifiedBefore) ?? []), ...(state.notified ?? [])])];
  const requesterId = state.requester_id ?? s.record?.requester_id ?? (s.pr.merged && state.grant ? s.pr.authorId : undefined);
  const full: GrantRecord = { v: 1, ...state, ...(notified.length ? { notified } : {}), ...(requesterId !== undefined ? { requester_id: requesterId } : {}) };
  if (s.kind.kind === "request") Object.assign(full, { path: s.kind.file.path, blob: s.kind.file.blobSha });
  return full;
}
