import type { NotifyEvent } from "../notify/message.js";
import type { GrantRecord as CommentState } from "./record.js";

/**
 * Which notifications a state change deserves (pure): a request that became pending, a grant
 * applied, rejected, about to expire, ended, or failing. Each event is sent once per request: the
 * events sent are recorded in the state block (`notified`), and those are never named again.
 */
export function announcements(prev: CommentState | undefined, next: CommentState): NotifyEvent[] {
  const was = prev?.status ?? null;
  const events: NotifyEvent[] = [];
  if (next.status === "PENDING" && next.grant) {
    events.push("requested");
    if (next.grant.emergency) events.push("break-glass");
  }
  const told = new Set([...(prev?.notified ?? []), ...(next.notified ?? [])]);
  if (next.status === "REJECTED" && (told.has("requested") || was === "APPLYING" || next.revert_path_blob)) events.push("rejected");
  if (next.status === "APPROVED" && was !== "APPROVED") events.push("granted");
  if (next.status === "APPLYING" && next.error) events.push("apply-failed");
  if (next.warned_at && !prev?.warned_at) events.push("expiring");
  if (next.status === "EXECUTED" && next.revoked_at) events.push("expired");
  if (next.status === "REVOKED" && next.revoked_at) events.push("revoked");
  if (next.revoke_error) events.push("revoke-failed");
  return events.filter((e) => !told.has(e));
}
