import { createHash } from "node:crypto";
import type { WebClient } from "@slack/web-api";
import { requesterMessage, requesterNews, slackMessage, showsButtons, type SlackRequestView } from "../present/slack.js";
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
  /** Buttons are shown: the request waits for approvers and its policy lets Slack decide (read on each click). */
  chat: boolean;
  /** The policy lets this request be decided from Slack (`approve_in_chat`), whatever its status. */
  policy?: boolean;
  sha: string;
  open: boolean;
  /** What the requester was told by direct message already (present/slack.ts, requesterNews). */
  told?: string[];
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
    /** The Slack users linked to a GitHub user id (the requester's direct messages); none: no DMs. */
    private readonly slackUsersOf: (githubId: number) => Promise<string[]> = async () => [],
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
      const meta = { chat: showsButtons(view), policy: view.chat, sha: view.headSha, open: view.open };
      if (entry && entry.hash === hash) return;
      let gone = false;
      if (entry) {
        try {
          await this.client.chat.update({ channel: entry.channel, ts: entry.ts, text: message.text, blocks: message.blocks as never });
          const told = await this.tellRequester(view, entry.told ?? []);
          await this.store.set(key, JSON.stringify({ ...entry, hash, ...meta, told } satisfies MessageEntry), MESSAGE_TTL_MS);
          return;
        } catch (error) {
          // Someone deleted the message in Slack: a request still waiting or being applied gets a new one.
          if ((error as { data?: { error?: string } }).data?.error !== "message_not_found") throw error;
          gone = true;
        }
      }
      if (!deservesNewMessage(view)) {
        if (gone) await this.store.delete(key);
        return;
      }
      const posted = await this.client.chat.postMessage({ channel: view.channel, text: message.text, blocks: message.blocks as never, unfurl_links: false });
      if (!posted.ts || !posted.channel) throw new Error("chat.postMessage answered without a channel and ts");
      const told = await this.tellRequester(view, entry?.told ?? []);
      await this.store.set(key, JSON.stringify({ channel: posted.channel, ts: posted.ts, hash, ...meta, told } satisfies MessageEntry), MESSAGE_TTL_MS);
    } catch (error) {
      this.log.warn(`Slack message of ${view.owner}/${view.repo}#${view.number} not updated: ${(error as Error).message}`);
    }
  }

  /**
   * Direct messages to the requester, through their own link (a requester who never linked their
   * GitHub account gets none): what changed since they were last told. Returns what they have been
   * told now; a failed message is not retried (it is news, not a record).
   */
  private async tellRequester(view: SlackRequestView, told: string[]): Promise<string[]> {
    const news = requesterNews(view, told);
    if (news.length === 0) return told;
    for (const person of await this.slackUsersOf(view.requesterId)) {
      const user = person.slice(person.indexOf(":") + 1);
      await this.client.chat.postMessage({ channel: user, text: requesterMessage(view, news), unfurl_links: false }).catch((error: unknown) => this.log.warn(`Slack: direct message to the requester of ${view.owner}/${view.repo}#${view.number} failed: ${(error as Error).message}`));
    }
    return [...told, ...news];
  }

  async entry(recordKey: string): Promise<MessageEntry | undefined> {
    const stored = await this.store.get(messageKey(recordKey));
    return stored ? (JSON.parse(stored) as MessageEntry) : undefined;
  }
}
