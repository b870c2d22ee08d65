import { readFileSync } from "node:fs";
import Mustache from "mustache";
import type { LoadedPolicy } from "../policy/load.js";

/**
 * Notifications (docs/reference/notifications.md): what happened to a request, where approvers
 * work. The text comes from templates/notifications/<event>.mustache (first line: the title),
 * rendered once per destination with that destination's escaping; code wraps it in Slack Block
 * Kit or a Microsoft Teams Adaptive Card. Pure: no I/O besides reading the templates once.
 */
export type NotifyEvent = "requested" | "break-glass" | "granted" | "rejected" | "expiring" | "expired" | "revoked" | "apply-failed" | "revoke-failed";

/** Break-glass and failures are loud: marked as such in both formats. */
const LOUD: readonly NotifyEvent[] = ["break-glass", "apply-failed", "revoke-failed"];

/** A request waits for its approvers, so its button asks them to review it; the others only open it. */
const AWAITS_REVIEW: readonly NotifyEvent[] = ["requested", "break-glass"];
export const buttonLabel = (event: NotifyEvent) => (AWAITS_REVIEW.includes(event) ? "Review on GitHub" : "Open the request");

export interface Destinations {
  /** Names of the environment variables holding the webhook URLs. */
  slackEnv?: string;
  teamsEnv?: string;
}

export interface Notification {
  event: NotifyEvent;
  /** Values for the template: requester, access, duration, reason, approvers, expires, why … */
  view: Record<string, string | undefined>;
  url: string;
  destinations: Destinations;
}

/** The resource's own destinations, else the policy's. */
export function destinationsFor(policy: LoadedPolicy | undefined, resource: string): Destinations {
  const own = policy?.resource(resource)?.notifications;
  const chosen = own ?? policy?.raw.notifications ?? {};
  return { ...(chosen.slack_webhook_env ? { slackEnv: chosen.slack_webhook_env } : {}), ...(chosen.teams_webhook_env ? { teamsEnv: chosen.teams_webhook_env } : {}) };
}

const templates = new Map<string, string>();
const DIR = new URL("../../templates/notifications/", import.meta.url);

function render(n: Notification, escape: (s: string) => string): { title: string; body: string } {
  let template = templates.get(n.event);
  if (template === undefined) {
    template = readFileSync(new URL(`${n.event}.mustache`, DIR), "utf8");
    templates.set(n.event, template);
  }
  const [title = "", ...rest] = Mustache.render(template, n.view, {}, { escape }).split("\n");
  return { title: title.trim(), body: rest.join("\n").trim() };
}

/** Slack mrkdwn: &, < and > are its only control characters (they make links and mentions). */
export const slackEscape = (s: string) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Teams TextBlock Markdown: punctuation that makes links or emphasis is escaped. */
export const teamsEscape = (s: string) => String(s).replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (c) => `\\${c}`);

export function slackPayload(n: Notification): Record<string, unknown> {
  const { title, body } = render(n, slackEscape);
  const loud = LOUD.includes(n.event);
  return {
    text: title,
    blocks: [
      { type: "header", text: { type: "plain_text", text: title.slice(0, 150), emoji: true } },
      { type: "section", text: { type: "mrkdwn", text: (loud ? `*${body}*` : body).slice(0, 3000) } },
      { type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: buttonLabel(n.event) }, url: n.url, ...(loud ? { style: "danger" } : {}) }] },
      { type: "context", elements: [{ type: "mrkdwn", text: `jit-access · ${n.event}` }] },
    ],
  };
}

export function teamsPayload(n: Notification): Record<string, unknown> {
  const { title, body } = render(n, teamsEscape);
  const loud = LOUD.includes(n.event);
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            { type: "TextBlock", text: title, weight: "Bolder", size: "Medium", wrap: true, ...(loud ? { color: "Attention" } : {}) },
            ...body.split("\n").map((line) => ({ type: "TextBlock", text: line, wrap: true })),
          ],
          actions: [{ type: "Action.OpenUrl", title: buttonLabel(n.event), url: n.url }],
        },
      },
    ],
  };
}
