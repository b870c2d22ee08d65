import { createHash } from "node:crypto";
import type { WebClient } from "@slack/web-api";
import { slackMessage, showsButtons, type SlackRequestView } from "../present/slack.js";
import type { KeyValue } from "./store.js";

/**
 * Where a request's message is and what it last showed. Kept in the Slack store (Redis with
 * REDIS_URL, else the state file), keyed by the record's key — not in the record itself: the
 * record is written before Slack answers with the message's `ts`, and writing it again for a
 * Slack detail would cost a GitHub write per request (docs/guide/slack.md, "Where the message is").
 */
export interface MessageEntry {
  channel: string;
  ts: string;
  /** Hash of what was last sent: an unchanged message is not sent again. */
  hash: string;
  /** The request may be decided from Slack (policy), and the head the message shows: read on each click. */
  chat: boolean;
  sha: string;
  open: boolean;
}

export const messageKey = (recordKey: string) => `msg:${recordKey}`;
/** Long enough for any grant's life; an entry gone later only means no further update of an old message. */
const MESSAGE_TTL_MS = 180 * 24 * 3600_000;

/** A request never shown in Slack gets a message only while it can still be acted on, not when a sweep first sees an old grant. */
function deservesNewMessage(v: SlackRequestView): boolean {
  return v.open && (v.status === "PENDING" || v.status === "SCHEDULED" || v.status === "APPLYING");
}

export class SlackMessages {
  constructor(
    private readonly client: WebClient,
    private readonly store: KeyValue,
    private readonly log: { warn(msg: string): void },
  ) {}

  /**
   * Brings the request's one message up to date: posted once, then `chat.update` whenever what it
   * shows changes. Called at the end of each evaluation, under the request's queue turn (and, with
   * REDIS_URL, its lock), so two replicas never post the same request twice. Never throws: Slack
   * being down must not stop the lifecycle (the next change tries again).
   */
  async sync(view: SlackRequestView | undefined): Promise<void> {
    if (!view?.channel) return;
    try {
      const key = messageKey(view.key);
      const stored = await this.store.get(key);
      const entry = stored ? (JSON.parse(stored) as MessageEntry) : undefined;
      const message = slackMessage(view);
      const hash = createHash("sha256").update(JSON.stringify(message)).digest("base64url");
      const meta = { chat: showsButtons(view), sha: view.headSha, open: view.open };
      if (entry && entry.hash === hash) return;
      if (entry) {
        await this.client.chat.update({ channel: entry.channel, ts: entry.ts, text: message.text, blocks: message.blocks as never });
        await this.store.set(key, JSON.stringify({ ...entry, hash, ...meta } satisfies MessageEntry), MESSAGE_TTL_MS);
        return;
      }
      if (!deservesNewMessage(view)) return;
      const posted = await this.client.chat.postMessage({ channel: view.channel, text: message.text, blocks: message.blocks as never, unfurl_links: false });
      if (!posted.ts || !posted.channel) throw new Error("chat.postMessage answered without a channel and ts");
      await this.store.set(key, JSON.stringify({ channel: posted.channel, ts: posted.ts, hash, ...meta } satisfies MessageEntry), MESSAGE_TTL_MS);
    } catch (error) {
      this.log.warn(`Slack message of ${view.owner}/${view.repo}#${view.number} not updated: ${(error as Error).message}`);
    }
  }

  async entry(recordKey: string): Promise<MessageEntry | undefined> {
    const stored = await this.store.get(messageKey(recordKey));
    return stored ? (JSON.parse(stored) as MessageEntry) : undefined;
  }
}
