import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { slackSignature } from "../src/slack/signature.js";

/**
 * Slack's Web API on a loopback port, for `new WebClient(token, { slackApiUrl })`: the methods the
 * app may use, with Slack's answers, and nothing else — another method, a wrong token, an update of
 * a message that does not exist all answer as Slack would (`ok: false`) and are kept in `refused`,
 * so a test sees them. Messages live here as Slack keeps them: one per `ts`, replaced by updates.
 */
export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Record<string, unknown>[];
  updates: number;
}

const METHODS = new Set(["chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "users.info"]);

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly refused: { method: string; error: string }[] = [];
  readonly messages = new Map<string, FakeMessage>();
  readonly ephemerals: { channel: string; user: string; text: string }[] = [];
  /** The workspace's people, for users.info (an unknown user is refused, as Slack does). */
  readonly people = new Map<string, { name: string; realName: string }>([
    ["U0ALICE", { name: "alice", realName: "Alice Requester" }],
    ["U0BOB", { name: "bob", realName: "Bob Approver" }],
    ["U0CAROL", { name: "carol", realName: "Carol Approver" }],
  ]);
  readonly views: { trigger_id: string; view: Record<string, unknown> }[] = [];
  private seq = 0;
  private constructor(
    private readonly server: Server,
    readonly apiUrl: string,
    private readonly token: string,
  ) {}

  static async start(token: string): Promise<FakeSlack> {
    let fake: FakeSlack | undefined;
    const server = createServer(async (req, res) => {
      const answer = fake!.handle(req.method ?? "GET", req.url ?? "/", req.headers.authorization, req.headers["content-type"] ?? "", await read(req));
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(answer));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fake = new FakeSlack(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`, token);
    return fake;
  }

  count(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  /** The one message in `channel` (fails the test if there are more or none). */
  only(channel: string): FakeMessage {
    const found = [...this.messages.values()].filter((m) => m.channel === channel);
    if (found.length !== 1) throw new Error(`expected one message in ${channel}, found ${found.length}`);
    return found[0]!;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private handle(httpMethod: string, path: string, authorization: string | undefined, type: string, body: string): Record<string, unknown> {
    const method = path.replace(/^\/api\//, "").replace(/\?.*$/, "");
    const refuse = (error: string) => {
      this.refused.push({ method, error });
      return { ok: false, error };
    };
    if (httpMethod !== "POST" || !METHODS.has(method)) return refuse("unknown_method");
    if (authorization !== `Bearer ${this.token}`) return refuse("invalid_auth");
    const args = parseArgs(type, body);
    this.calls.push({ method, args });
    const blocks = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : (v ?? [])) as Record<string, unknown>[];
    switch (method) {
      case "chat.postMessage": {
        if (!args.channel || (!args.text && !args.blocks)) return refuse("no_text");
        const ts = `1700000000.${String(++this.seq).padStart(6, "0")}`;
        const channel = String(args.channel).replace(/^#/, "C");
        this.messages.set(ts, { channel, ts, text: String(args.text ?? ""), blocks: blocks(args.blocks), updates: 0 });
        return { ok: true, channel, ts, message: { ts, text: args.text } };
      }
      case "chat.update": {
        const m = this.messages.get(String(args.ts));
        if (!m || m.channel !== args.channel) return refuse("message_not_found");
        m.text = String(args.text ?? "");
        m.blocks = blocks(args.blocks);
        m.updates++;
        return { ok: true, channel: m.channel, ts: m.ts, text: m.text };
      }
      case "chat.postEphemeral": {
        if (!args.channel || !args.user || !args.text) return refuse("invalid_arguments");
        this.ephemerals.push({ channel: String(args.channel), user: String(args.user), text: String(args.text) });
        return { ok: true, message_ts: `1700000001.${String(++this.seq).padStart(6, "0")}` };
      }
      case "users.info": {
        const person = this.people.get(String(args.user));
        return person ? { ok: true, user: { id: String(args.user), name: person.name, real_name: person.realName, profile: { real_name: person.realName } } } : refuse("user_not_found");
      }
      default: {
        if (!args.trigger_id || !args.view) return refuse("invalid_arguments");
        const view = typeof args.view === "string" ? JSON.parse(args.view) : args.view;
        this.views.push({ trigger_id: String(args.trigger_id), view });
        return { ok: true, view: { id: `V${++this.seq}`, ...view } };
      }
    }
  }
}

function parseArgs(type: string, body: string): Record<string, unknown> {
  if (type.startsWith("application/json")) return JSON.parse(body || "{}") as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(body));
}

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** An interaction as Slack sends it: form-encoded `payload`, signed v0 with the app's signing secret at `timestampS`. */
export function signedInteraction(secret: string, payload: Record<string, unknown>, timestampS: number): { body: string; headers: Record<string, string> } {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return {
    body,
    headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(timestampS), "x-slack-signature": slackSignature(secret, timestampS, body) },
  };
}

/** A click on a button of a message, as Slack's `block_actions` payload carries it. */
export function blockAction(o: { user: string; team?: string; channel: string; actionId: string; value: string; trigger?: string; messageTs?: string }): Record<string, unknown> {
  return {
    type: "block_actions",
    user: { id: o.user, username: o.user.toLowerCase(), team_id: o.team ?? "T0JIT" },
    team: { id: o.team ?? "T0JIT", domain: "acme" },
    api_app_id: "A0JIT",
    container: { type: "message", message_ts: o.messageTs ?? "1700000000.000001", channel_id: o.channel, is_ephemeral: false },
    trigger_id: o.trigger ?? `${Date.now()}.${Math.random().toString().slice(2)}`,
    channel: { id: o.channel, name: "access" },
    response_url: "https://hooks.slack.com/actions/T0JIT/1/never-called",
    actions: [{ type: "button", action_id: o.actionId, block_id: "b", value: o.value, action_ts: "1700000002.000001" }],
  };
}
