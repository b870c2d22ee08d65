import type { GrantRecord, StateStatus } from "../lifecycle/record.js";
import type { RequestSnapshot } from "../lifecycle/snapshot.js";
import { slackEscape } from "../notify/message.js";
import { utc } from "./text.js";

/**
 * The Slack app's one message per request (docs/guide/slack.md), drawn from the request's record
 * and the snapshot it was decided from: pure, so the same record always draws the same message and
 * an unchanged one is never sent again. Every text that came from people (reasons, logins, names)
 * is escaped for mrkdwn, where only &, < and > are special (links, mentions).
 */
export interface SlackRequestView {
  /** The record's key (repository id and number): survives renames. */
  key: string;
  /** From the policy: the resource's own `notifications.slack.channel`, else the policy's; none: no message. */
  channel: string | undefined;
  owner: string;
  repo: string;
  number: number;
  url: string;
  /** The head the message shows: an Approve click approves this commit and no other. */
  headSha: string;
  open: boolean;
  requester: string;
  access: string;
  duration?: string;
  reason?: string;
  ticket?: string;
  emergency: boolean;
  status: StateStatus | null;
  approvers: string[];
  waitingFor: string[];
  expiresAt?: string;
  appliedAt?: string;
  startsAt?: string;
  revokedAt?: string;
  warned: boolean;
  endedBy?: string;
  rejectedBy?: string;
  error?: string;
  /** The policy lets this request be decided from Slack (`approve_in_chat`; break-glass off unless said). */
  chat: boolean;
  /** The requester's GitHub user id (the PR author's): whom the direct messages go to, through their link. */
  requesterId: number;
}

/** What a button carries: which request and which commit the message showed. */
export interface ButtonValue {
  k: string;
  o: string;
  r: string;
  n: number;
  sha: string;
}

export const APPROVE_ACTION = "jit_approve";
export const REJECT_ACTION = "jit_reject";
export const REJECT_CALLBACK = "jit_reject_reason";
export const REASON_BLOCK = "reason";
export const REASON_INPUT = "reason_input";

export function slackViewOf(s: RequestSnapshot, record: GrantRecord): SlackRequestView | undefined {
  const g = record.grant;
  if (!g) return undefined;
  const policy = s.policy.ok ? s.policy.policy : undefined;
  const own = policy?.resource(g.resource)?.notifications;
  const channel = (own ?? policy?.raw.notifications)?.slack?.channel;
  const role = policy?.role(g.resource, g.role);
  const chat = g.emergency ? (policy?.breakGlass?.approveInChat ?? false) : (role?.approveInChat ?? false);
  const opt = <K extends string, V>(k: K, v: V | undefined) => (v === undefined ? {} : ({ [k]: v } as Record<K, V>));
  return {
    key: `repo:${s.repoId}#${s.pr.number}`,
    channel,
    owner: s.owner,
    repo: s.repo,
    number: s.pr.number,
    url: s.pr.url,
    headSha: s.pr.headSha,
    open: s.pr.state === "open",
    requester: g.requester,
    access: `${g.resource} · ${g.role}`,
    ...opt("duration", g.duration),
    ...opt("reason", g.reason),
    ...opt("ticket", g.ticket),
    emergency: !!g.emergency,
    status: record.status,
    approvers: record.approvers ?? [],
    waitingFor: record.waiting_for ?? [],
    ...opt("expiresAt", record.expires_at),
    ...opt("appliedAt", record.applied_at),
    ...opt("startsAt", record.starts_at),
    ...opt("revokedAt", record.revoked_at),
    warned: !!record.warned_at,
    ...opt("endedBy", record.ended_by),
    ...opt("rejectedBy", record.rejected_by),
    ...opt("error", record.error ?? record.revoke_error),
    chat,
    requesterId: s.pr.authorId,
  };
}

/** What the requester hears by direct message, each once per request. */
export type RequesterNews = "approved" | "applied" | "expiring" | "ended" | "rejected";

/** The news the view holds that the requester has not been told yet (pure; `told`: those already sent). */
export function requesterNews(v: SlackRequestView, told: readonly string[]): RequesterNews[] {
  const news: RequesterNews[] = [];
  const decided = v.status === "SCHEDULED" || v.status === "APPLYING" || v.status === "APPROVED";
  if (decided) news.push("approved");
  if (v.status === "APPROVED" && v.appliedAt) news.push("applied");
  if (v.status === "APPROVED" && v.warned) news.push("expiring");
  if ((v.status === "EXECUTED" || v.status === "REVOKED") && v.revokedAt) news.push("ended");
  if (v.status === "REJECTED") news.push("rejected");
  return news.filter((n) => !told.includes(n));
}

/** One direct message for the news of one evaluation (approved and applied often come together). */
export function requesterMessage(v: SlackRequestView, news: readonly RequesterNews[]): string {
  const what = `your request #${v.number} (${e(v.access)}, <${v.url}|${e(`${v.owner}/${v.repo}`)}>)`;
  const lines = news.map((n) => {
    switch (n) {
      case "approved":
        return `✅ ${what} was approved${v.approvers.length ? ` by ${people(v.approvers)}` : ""}.`;
      case "applied":
        return `🟢 Your access is applied until ${at(v.expiresAt)}.`;
      case "expiring":
        return `⌛ Your access ends at ${at(v.expiresAt)}. Still need it? \`jit extend ${v.number} --by 1h --reason "…"\` asks for more time (approved like any request).`;
      case "ended":
        return `⏹️ Your access from request #${v.number} ended ${at(v.revokedAt)}${v.endedBy ? `: ${e(v.endedBy)}` : ""}.`;
      case "rejected":
        return `❌ ${what} was rejected${v.rejectedBy ? ` by ${e(v.rejectedBy)}` : ""}${v.endedBy ? `: ${e(v.endedBy)}` : ""}.`;
    }
  });
  return lines.join("\n");
}

/** Buttons only while the request waits for approvers, and only where the policy allows chat decisions. */
export function showsButtons(v: SlackRequestView): boolean {
  return v.chat && v.open && v.status === "PENDING";
}

const e = slackEscape;
const at = (iso: string | undefined) => (iso ? utc(new Date(iso)) : "?");
const people = (list: string[]) => list.map(e).join(", ");

/** One line saying where the request is now. */
export function statusLine(v: SlackRequestView): string {
  switch (v.status) {
    case "PENDING":
      if (!v.open) return "⏸️ Closed without a decision";
      return [v.approvers.length ? `✅ Approved by ${people(v.approvers)}` : "", v.waitingFor.length ? `⏳ Waiting for ${people(v.waitingFor)}` : "⏳ Waiting for approval"].filter(Boolean).join(" · ");
    case "SCHEDULED":
      return `🗓️ Approved by ${people(v.approvers)}, merged; starts ${at(v.startsAt)}`;
    case "APPLYING":
      return v.error ? `⚠️ Merged; applying failed, retrying: ${e(v.error)}` : `🔄 Approved by ${people(v.approvers)}, merged; applying`;
    case "APPROVED":
      return `${v.warned ? "⌛ Expiring soon: a" : "🟢 A"}pplied until ${at(v.expiresAt)} (approved by ${people(v.approvers) || "auto-approval"})`;
    case "REJECTED":
      return `❌ Rejected${v.rejectedBy ? ` by ${e(v.rejectedBy)}` : ""}${v.endedBy ? `: ${e(v.endedBy)}` : ""}`;
    case "EXECUTED":
      return `⏹️ Ended ${at(v.revokedAt)}${v.endedBy ? `: ${e(v.endedBy)}` : ""}`;
    case "REVOKED":
      return `⏹️ Revoked ${at(v.revokedAt)}${v.endedBy ? `: ${e(v.endedBy)}` : ""}`;
    default:
      return "❔ Not a valid request";
  }
}

export function slackMessage(v: SlackRequestView): { text: string; blocks: Record<string, unknown>[] } {
  const title = `${v.emergency ? "🚨 Break-glass request" : "Access request"} #${v.number}: ${v.requester} → ${v.access}`;
  const fields = [
    `*Requester*\n${e(v.requester)}`,
    `*Access*\n${e(v.access)}`,
    ...(v.duration ? [`*Duration*\n${e(v.duration)}`] : []),
    ...(v.ticket ? [`*Ticket*\n${e(v.ticket)}`] : []),
  ];
  const value = (): string => JSON.stringify({ k: v.key, o: v.owner, r: v.repo, n: v.number, sha: v.headSha } satisfies ButtonValue);
  const buttons = showsButtons(v)
    ? [
        { type: "button", action_id: APPROVE_ACTION, style: "primary", text: { type: "plain_text", text: "Approve" }, value: value() },
        { type: "button", action_id: REJECT_ACTION, style: "danger", text: { type: "plain_text", text: "Reject…" }, value: value() },
      ]
    : [];
  return {
    text: `${title} — ${statusLine(v)}`.slice(0, 3000),
    blocks: [
      { type: "header", text: { type: "plain_text", text: title.slice(0, 150), emoji: true } },
      { type: "section", fields: fields.map((text) => ({ type: "mrkdwn", text: text.slice(0, 2000) })) },
      ...(v.reason ? [{ type: "section", text: { type: "mrkdwn", text: `*Reason*\n${e(v.reason)}`.slice(0, 3000) } }] : []),
      { type: "section", text: { type: "mrkdwn", text: statusLine(v).slice(0, 3000) } },
      {
        type: "actions",
        elements: [...buttons, { type: "button", action_id: "jit_open", text: { type: "plain_text", text: "Open on GitHub" }, url: v.url }],
      },
      {
        type: "context",
        elements: [{ type: "mrkdwn", text: `${e(`${v.owner}/${v.repo}`)} · head \`${v.headSha.slice(0, 7)}\`${showsButtons(v) ? " · a click approves this commit only, as your own GitHub review" : ""}` }],
      },
    ],
  };
}

/** The reason modal a Reject click opens; the request and shown commit ride along in private_metadata. */
export function rejectModal(button: ButtonValue, channel: string): Record<string, unknown> {
  return {
    type: "modal",
    callback_id: REJECT_CALLBACK,
    private_metadata: JSON.stringify({ ...button, c: channel }),
    title: { type: "plain_text", text: "Reject the request" },
    submit: { type: "plain_text", text: "Reject" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `Request #${button.n} in ${e(`${button.o}/${button.r}`)} at \`${button.sha.slice(0, 7)}\`: your reason becomes your own "changes requested" review on GitHub.` } },
      { type: "input", block_id: REASON_BLOCK, label: { type: "plain_text", text: "Reason" }, element: { type: "plain_text_input", action_id: REASON_INPUT, multiline: true, min_length: 3, max_length: 1000 } },
    ],
  };
}
