import type { GrantRecord } from "../lifecycle/record.js";
import type { RequestSnapshot } from "../lifecycle/snapshot.js";
import { destinationsFor, type Notification, type NotifyEvent } from "../notify/message.js";
import { utc } from "./text.js";

/** A notification of one event, drawn from the record (Slack and Teams render it from here). */
export function notificationOf(s: RequestSnapshot, state: GrantRecord, event: NotifyEvent): Notification {
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
