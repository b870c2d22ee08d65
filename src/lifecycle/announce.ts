import { destinationsFor, type Notification, type NotifyEvent } from "../notify/message.js";
import { utc } from "./present.js";
import type { RequestSnapshot } from "./snapshot.js";
import type { CommentState } from "./state-block.js";

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

export function notificationOf(s: RequestSnapshot, state: CommentState, event: NotifyEvent): Notification {
  const g = state.grant;
  const policy = s.policy.ok ? s.policy.policy : undefined;
  const approvers =
    event === "break-glass" ? (policy?.breakGlass?.approvers ?? []).join(", ")
    : state.approvers?.length ? state.approvers.join(", ")
    : (state.waiting_for ?? []).join(", ");
  return {
    event,
    url: s.pr.url,
    destinations: destinationsFor(policy, g?.resource ?? ""),
    view: {
      requester: g?.requester ?? s.pr.author,
      access: g ? `${g.resource} · ${g.role}` : "access",
      duration: g?.duration,
      reason: g?.reason,
      ticket: g?.ticket,
      approvers,
      expires: state.expires_at ? utc(new Date(state.expires_at)) : undefined,
      revoked: state.revoked_at ? utc(new Date(state.revoked_at)) : undefined,
      why: state.ended_by ?? state.error ?? state.revoke_error ?? (event === "rejected" ? "it was rejected" : undefined),
    },
  };
}
