import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { WebClient } from "@slack/web-api";
import { chatText, confirmLinkPage, linkedPage, linkPage, linkProblemPage } from "../present/slack-pages.js";
import { rejectModal, APPROVE_ACTION, REASON_BLOCK, REASON_INPUT, REJECT_ACTION, REJECT_CALLBACK, type ButtonValue } from "../present/slack.js";
import type { GitHubUser } from "./github-user.js";
import { slackPerson, type AccountLinks, type LinkedAccount } from "./links.js";
import type { SlackMessages } from "./messages.js";
import { signatureProblem, SIGNATURE_MAX_AGE_S } from "./signature.js";
import type { KeyValue } from "./store.js";

export const INTERACTIONS_PATH = "/slack/interactions";
export const LINK_PATH = "/slack/link";
export const CALLBACK_PATH = "/slack/oauth/callback";
export const CONFIRM_PATH = "/slack/link/confirm";
/** Slack's interaction payloads are small; anything larger is not Slack. */
const MAX_BODY_BYTES = 256 * 1024;
/** Replay marks outlive the signature's own window. */
const REPLAY_TTL_MS = (SIGNATURE_MAX_AGE_S + 60) * 1000;

export interface SlackRoutesOptions {
  signingSecret: string;
  client: WebClient;
  /** Replay marks (Redis with REDIS_URL, so every replica sees them; else this process). */
  replay: KeyValue;
  links: AccountLinks;
  github: GitHubUser;
  messages: SlackMessages;
  /** The app's public origin, where Slack people open the link page and GitHub sends them back. */
  publicUrl: string;
  now?: () => Date;
  log: { info(msg: string): void; warn(msg: string): void };
}

interface Interaction {
  type?: string;
  trigger_id?: string;
  user?: { id?: string; team_id?: string };
  team?: { id?: string } | null;
  channel?: { id?: string };
  actions?: { action_id?: string; value?: string }[];
  view?: { callback_id?: string; private_metadata?: string; state?: { values?: Record<string, Record<string, { value?: string | null }>> } };
}

/**
 * The Slack app's HTTP side, on Probot's own server (its `addHandler`): the interactions endpoint
 * and the account-link pages. An interaction is answered first (Slack wants an answer within 3 s)
 * and carried out after; what came of it is told to the clicker alone (an ephemeral message).
 * Nothing here decides a request: a click becomes the clicker's own GitHub review, which reaches
 * the app as any review does (a `pull_request_review` webhook) and is judged by the same rules.
 */
export class SlackRoutes {
  private readonly pending = new Set<Promise<void>>();
  private readonly now: () => Date;

  constructor(private readonly o: SlackRoutesOptions) {
    this.now = o.now ?? (() => new Date());
  }

  readonly handler = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === INTERACTIONS_PATH && req.method === "POST") return this.interaction(req, res);
    if (url.pathname === LINK_PATH && req.method === "GET") return this.linkPage(url, res);
    if (url.pathname === CALLBACK_PATH && req.method === "GET") return this.callback(url, res);
    if (url.pathname === CONFIRM_PATH && req.method === "POST") return this.confirm(req, res);
    return false;
  };

  /** Until every interaction answered so far has been carried out (tests, the bench, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async interaction(req: IncomingMessage, res: ServerResponse): Promise<true> {
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, "text/plain", "too large\n");
    const problem = signatureProblem({
      secret: this.o.signingSecret,
      timestamp: header(req, "x-slack-request-timestamp"),
      signature: header(req, "x-slack-signature"),
      body,
      nowS: Math.floor(this.now().getTime() / 1000),
    });
    if (problem) {
      this.o.log.warn(`Slack interaction refused: ${problem}`);
      return send(res, 401, "text/plain", "invalid signature\n");
    }
    let payload: Interaction;
    try {
      payload = JSON.parse(new URLSearchParams(body).get("payload") ?? "") as Interaction;
      if (typeof payload !== "object" || payload === null) throw new Error("not an object");
    } catch {
      return send(res, 400, "text/plain", "no interaction payload\n");
    }
    // The same signed request twice (or the same interaction under a new signature) is carried out once.
    const signatureMark = `replay:${createHash("sha256").update(header(req, "x-slack-signature") ?? "").digest("base64url")}`;
    const fresh = (await this.o.replay.setIfAbsent(signatureMark, "1", REPLAY_TTL_MS)) && (!payload.trigger_id || (await this.o.replay.setIfAbsent(`trigger:${payload.trigger_id}`, "1", REPLAY_TTL_MS)));
    send(res, 200, "text/plain", "");
    if (!fresh) {
      this.o.log.warn("Slack interaction replayed: ignored");
      return true;
    }
    const work = this.carryOut(payload).catch((error: unknown) => this.o.log.warn(`Slack interaction failed: ${(error as Error).message}`));
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
    return true;
  }

  private async carryOut(p: Interaction): Promise<void> {
    const userId = p.user?.id;
    const teamId = p.team?.id ?? p.user?.team_id;
    if (!userId || !teamId) return;
    const person = slackPerson(teamId, userId);
    if (p.type === "block_actions") {
      const action = p.actions?.[0];
      const button = parseButton(action?.value);
      const channel = p.channel?.id;
      if (!button || !channel || (action?.action_id !== APPROVE_ACTION && action?.action_id !== REJECT_ACTION)) return;
      const say = (text: string) => this.o.client.chat.postEphemeral({ channel, user: userId, text }).then(() => undefined);
      const account = await this.allowed(person, button, say);
      if (!account) return;
      if (action.action_id === APPROVE_ACTION) return this.review(person, account, button, "APPROVE", "Approved from Slack.", say);
      if (!p.trigger_id) return;
      await this.o.client.views.open({ trigger_id: p.trigger_id, view: rejectModal(button, channel) as never });
      return;
    }
    if (p.type === "view_submission" && p.view?.callback_id === REJECT_CALLBACK) {
      const meta = parseMeta(p.view.private_metadata);
      const reason = p.view.state?.values?.[REASON_BLOCK]?.[REASON_INPUT]?.value?.trim();
      if (!meta || !reason) return;
      const say = (text: string) => this.o.client.chat.postEphemeral({ channel: meta.c, user: userId, text }).then(() => undefined);
      const account = await this.allowed(person, meta, say);
      if (!account) return;
      await this.review(person, account, meta, "REQUEST_CHANGES", `Rejected from Slack: ${reason}`, say);
    }
  }

  /** The clicker's linked account, if they have one and the request may be decided from Slack; else they are told why not. */
  private async allowed(person: string, button: ButtonValue, say: (text: string) => Promise<void>): Promise<LinkedAccount | undefined> {
    const requestUrl = `https://github.com/${encodeURIComponent(button.o)}/${encodeURIComponent(button.r)}/pull/${button.n}`;
    const entry = await this.o.messages.entry(button.k);
    if (!entry?.chat) {
      // Refused either way; the clicker is told whether it is the policy or the request's state.
      await say(entry && entry.policy !== false ? chatText.decided(requestUrl) : chatText.notInChat(requestUrl));
      return undefined;
    }
    const linked = await this.o.links.get(person);
    const fresh = linked && (await this.o.github.fresh(linked).catch(() => undefined));
    if (!fresh) {
      await say(chatText.link(`${this.o.publicUrl}${LINK_PATH}?state=${await this.o.links.newState(person)}`));
      return undefined;
    }
    if (fresh.renewed) await this.o.links.save(person, fresh.account);
    return fresh.account;
  }

  /** The review, as the person, of exactly the commit the message showed. */
  private async review(person: string, account: LinkedAccount, b: ButtonValue, event: "APPROVE" | "REQUEST_CHANGES", body: string, say: (text: string) => Promise<void>): Promise<void> {
    const gh = this.o.github.octokit(account.token);
    const ref = { owner: b.o, repo: b.r, pull_number: b.n };
    const requestUrl = `https://github.com/${encodeURIComponent(b.o)}/${encodeURIComponent(b.r)}/pull/${b.n}`;
    try {
      const { data: pr } = await gh.rest.pulls.get(ref);
      if (pr.state !== "open") return say(chatText.closed(pr.html_url));
      if (pr.head.sha !== b.sha) return say(chatText.outdated(b.sha, pr.head.sha, pr.html_url));
      await gh.rest.pulls.createReview({ ...ref, commit_id: b.sha, event, body });
      this.o.log.info(`Slack: ${account.login} submitted ${event} on ${b.o}/${b.r}#${b.n} at ${b.sha}`);
      return say(event === "APPROVE" ? chatText.approved(account.login, b.sha) : chatText.rejected(account.login, b.sha));
    } catch (error) {
      const status = (error as { status?: number }).status;
      const message = githubMessage(error);
      if (status === 401) {
        // The token was revoked or expired on GitHub's side: the link is gone; the person links again.
        await this.o.links.unlink(person);
        return say(chatText.link(`${this.o.publicUrl}${LINK_PATH}?state=${await this.o.links.newState(person)}`));
      }
      if (status === 422 || status === 403 || status === 404) return say(chatText.refused(message));
      this.o.log.warn(`Slack: ${event} by ${account.login} on ${requestUrl} failed: ${message}`);
      return say(chatText.failed(message));
    }
  }

  private async linkPage(url: URL, res: ServerResponse): Promise<true> {
    const state = url.searchParams.get("state") ?? "";
    if (!(await this.o.links.peekState(state))) return send(res, 400, "text/html; charset=utf-8", linkProblemPage("This link has expired or was already used."));
    return send(res, 200, "text/html; charset=utf-8", linkPage(this.o.github.authorizeUrl(state, `${this.o.publicUrl}${CALLBACK_PATH}`)));
  }

  private async callback(url: URL, res: ServerResponse): Promise<true> {
    const state = url.searchParams.get("state") ?? "";
    const code = url.searchParams.get("code") ?? "";
    const person = await this.o.links.takeState(state);
    if (!person || !code) return send(res, 400, "text/html; charset=utf-8", linkProblemPage("This link has expired or was already used."));
    try {
      const account = await this.o.github.exchange(code, state, `${this.o.publicUrl}${CALLBACK_PATH}`);
      // Not linked yet: the state proves which Slack person asked, not who is at this browser. The
      // GitHub account's holder confirms the Slack account by name first (a forwarded link names
      // someone else's).
      const token = await this.o.links.holdPending({ person, account });
      return send(res, 200, "text/html; charset=utf-8", confirmLinkPage(account.login, await this.slackName(person), CONFIRM_PATH, token));
    } catch (error) {
      this.o.log.warn(`Slack: linking ${person} failed: ${githubMessage(error)}`);
      return send(res, 502, "text/html; charset=utf-8", linkProblemPage(`GitHub did not accept the authorization: ${githubMessage(error)}`));
    }
  }

  /** The confirmation of a pending link (the form on the callback's page): only now is it saved. */
  private async confirm(req: IncomingMessage, res: ServerResponse): Promise<true> {
    const body = await readBody(req);
    const token = new URLSearchParams(body ?? "").get("token") ?? "";
    const pending = await this.o.links.takePending(token);
    if (!pending) return send(res, 400, "text/html; charset=utf-8", linkProblemPage("This link has expired or was already used."));
    await this.o.links.save(pending.person, pending.account);
    this.o.log.info(`Slack: ${pending.person} linked to GitHub ${pending.account.login}`);
    return send(res, 200, "text/html; charset=utf-8", linkedPage(pending.account.login));
  }

  /** How the page names a Slack person: their name and handle from Slack, or their id when Slack does not say. */
  private async slackName(person: string): Promise<string> {
    const [team, user] = person.split(":");
    try {
      const { user: found } = await this.o.client.users.info({ user: user! });
      const name = found?.real_name || found?.profile?.real_name || found?.name;
      return name ? `${name} (${found?.name ?? user}, ${user} in workspace ${team})` : `${user} in workspace ${team}`;
    } catch {
      return `${user} in workspace ${team}`;
    }
  }
}

function parseButton(value: unknown): ButtonValue | undefined {
  try {
    const v = JSON.parse(String(value)) as Partial<ButtonValue>;
    const ok = typeof v.k === "string" && typeof v.o === "string" && typeof v.r === "string" && Number.isInteger(v.n) && typeof v.sha === "string" && /^[0-9a-f]{40}$/.test(v.sha);
    return ok ? { k: v.k!, o: v.o!, r: v.r!, n: v.n!, sha: v.sha! } : undefined;
  } catch {
    return undefined;
  }
}

function parseMeta(value: unknown): (ButtonValue & { c: string }) | undefined {
  const b = parseButton(value);
  const c = b && (JSON.parse(String(value)) as { c?: unknown }).c;
  return b && typeof c === "string" ? { ...b, c } : undefined;
}

/** What GitHub said (its message and validation errors), never a token or header. */
function githubMessage(error: unknown): string {
  const data = (error as { response?: { data?: { message?: string; errors?: unknown[] } } }).response?.data;
  const details = (data?.errors ?? []).map((e) => (typeof e === "string" ? e : (e as { message?: string }).message)).filter(Boolean);
  return [data?.message ?? (error as Error).message, ...details].join(": ").replace(/\s+/g, " ").slice(0, 300);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, type: string, body: string): true {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  res.end(body);
  return true;
}
