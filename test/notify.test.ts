import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { Ajv } from "ajv";
import { announcements } from "../src/lifecycle/announce.js";
import type { CommentState } from "../src/lifecycle/codec.js";
import { Notifier } from "../src/notify/deliver.js";
import { slackPayload, teamsPayload, type Notification } from "../src/notify/message.js";
import { startReceiver, type Receiver } from "./helpers/receiver.js";

const grant = { requester: "alice", resource: "prod-db", role: "read-only", duration: "2h", reason: "Investigate INC-4211" };
const st = (extra: Partial<CommentState>): CommentState => ({ v: 1, status: null, grant, ...extra });

describe("which state changes are announced (pure)", () => {
  it("names each event once, when it happens", () => {
    expect(announcements(undefined, st({ status: "PENDING" }))).toEqual(["requested"]);
    expect(announcements(undefined, st({ status: "PENDING", grant: { ...grant, emergency: true } }))).toEqual(["requested", "break-glass"]);
    expect(announcements(st({ status: "PENDING", notified: ["requested"] }), st({ status: "PENDING", notified: ["requested"] }))).toEqual([]);
    expect(announcements(st({ status: "PENDING", notified: ["requested"] }), st({ status: "REJECTED", notified: ["requested"] }))).toEqual(["rejected"]);
    expect(announcements(st({ status: "APPLYING" }), st({ status: "APPROVED" }))).toEqual(["granted"]);
    expect(announcements(st({ status: "APPLYING" }), st({ status: "APPLYING", error: "x", attempts: 1 }))).toEqual(["apply-failed"]);
    expect(announcements(st({ status: "APPLYING", notified: ["apply-failed"] }), st({ status: "APPLYING", error: "x", attempts: 2, notified: ["apply-failed"] }))).toEqual([]);
    expect(announcements(st({ status: "APPROVED" }), st({ status: "APPROVED", warned_at: "t" }))).toEqual(["expiring"]);
    expect(announcements(st({ status: "APPROVED" }), st({ status: "EXECUTED", revoked_at: "t" }))).toEqual(["expired"]);
    expect(announcements(st({ status: "APPROVED" }), st({ status: "REVOKED", revoked_at: "t" }))).toEqual(["revoked"]);
    expect(announcements(st({ status: "APPROVED" }), st({ status: "APPROVED", revoke_error: "x" }))).toEqual(["revoke-failed"]);
  });
  it("an invalid request that is closed was never announced, so its rejection is not either", () => {
    expect(announcements(st({ status: null }), st({ status: "REJECTED" }))).toEqual([]);
  });
});

const note = (extra: Partial<Notification> = {}): Notification => ({
  event: "requested",
  url: "https://github.com/acme/access/pull/7",
  destinations: { slackEnv: "JIT_SLACK_URL", teamsEnv: "JIT_TEAMS_URL" },
  view: { requester: "alice", access: "prod-db · read-only", duration: "2h", reason: "Fix <!channel> & [this](https://evil.example)", approvers: "@acme/dba, @acme/security" },
  ...extra,
});

// The parts of Block Kit and Adaptive Cards these messages use, as their documentation defines them.
const text = { type: "object", required: ["type", "text"], properties: { type: { enum: ["plain_text", "mrkdwn"] }, text: { type: "string", minLength: 1 } } };
// A link button: plain_text of at most 75 characters, a URL of at most 3000 (Block Kit's limits).
const BUTTON = {
  type: "object",
  required: ["type", "text", "url"],
  properties: {
    type: { const: "button" },
    text: { type: "object", required: ["type", "text"], properties: { type: { const: "plain_text" }, text: { type: "string", minLength: 1, maxLength: 75 } } },
    url: { type: "string", pattern: "^https?://", maxLength: 3000 },
    style: { enum: ["primary", "danger"] },
  },
};
const BLOCK_KIT = {
  type: "object",
  required: ["text", "blocks"],
  properties: {
    text: { type: "string", minLength: 1 },
    blocks: {
      type: "array", maxItems: 50,
      items: {
        type: "object", required: ["type"],
        oneOf: [
          { properties: { type: { const: "header" }, text: { ...text, properties: { ...text.properties, type: { const: "plain_text" }, text: { type: "string", maxLength: 150 } } } }, required: ["text"] },
          { properties: { type: { const: "section" }, text: { ...text, properties: { ...text.properties, text: { type: "string", maxLength: 3000 } } } }, required: ["text"] },
          { properties: { type: { const: "context" }, elements: { type: "array", minItems: 1, items: text } }, required: ["elements"] },
          { properties: { type: { const: "actions" }, elements: { type: "array", minItems: 1, maxItems: 25, items: BUTTON } }, required: ["elements"] },
        ],
      },
    },
  },
};
const ADAPTIVE_CARD_MESSAGE = {
  type: "object",
  required: ["type", "attachments"],
  properties: {
    type: { const: "message" },
    attachments: {
      type: "array", minItems: 1,
      items: {
        type: "object", required: ["contentType", "content"],
        properties: {
          contentType: { const: "application/vnd.microsoft.card.adaptive" },
          content: {
            type: "object", required: ["type", "version", "body"],
            properties: {
              type: { const: "AdaptiveCard" },
              version: { type: "string", pattern: "^1\\.[0-6]$" },
              body: { type: "array", minItems: 1, items: { type: "object", required: ["type", "text"], properties: { type: { const: "TextBlock" }, color: { enum: ["Default", "Attention", "Good", "Warning", "Accent"] } } } },
              actions: { type: "array", items: { type: "object", required: ["type", "title", "url"], properties: { type: { const: "Action.OpenUrl" }, title: { type: "string", minLength: 1 }, url: { type: "string", pattern: "^https?://" } } } },
            },
          },
        },
      },
    },
  },
};

describe("payloads", () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  it("Slack: valid Block Kit, with user text escaped so it cannot mention a channel", () => {
    const payload = slackPayload(note());
    expect(ajv.validate(BLOCK_KIT, payload)).toBe(true);
    const body = JSON.stringify(payload);
    expect(body).toContain("Fix &lt;!channel&gt; &amp; [this](https://evil.example)");
    expect(body).not.toContain("<!channel>");
    expect((payload as any).blocks[0].text.text).toBe("Access requested: alice → prod-db · read-only");
  });
  it("Teams: a valid Adaptive Card message, with Markdown in user text escaped", () => {
    const payload = teamsPayload(note());
    expect(ajv.validate(ADAPTIVE_CARD_MESSAGE, payload)).toBe(true);
    expect(JSON.stringify(payload)).toContain("\\\\[this\\\\]\\\\(https://evil\\\\.example\\\\)");
  });
  it("requests (requested, break-glass) carry a 'Review on GitHub' button to the PR in both; other events open it", () => {
    const slackButtons = (p: any) => p.blocks.filter((b: any) => b.type === "actions").flatMap((b: any) => b.elements.map((e: any) => [e.type, e.text.text, e.url]));
    const teamsActions = (p: any) => p.attachments[0].content.actions.map((a: any) => [a.type, a.title, a.url]);
    const url = "https://github.com/acme/access/pull/7";
    for (const event of ["requested", "break-glass"] as const) {
      const n = note({ event });
      expect(ajv.validate(BLOCK_KIT, slackPayload(n))).toBe(true);
      expect(ajv.validate(ADAPTIVE_CARD_MESSAGE, teamsPayload(n))).toBe(true);
      expect(slackButtons(slackPayload(n))).toEqual([["button", "Review on GitHub", url]]);
      expect(teamsActions(teamsPayload(n))).toEqual([["Action.OpenUrl", "Review on GitHub", url]]);
    }
    const granted = note({ event: "granted", view: { requester: "alice", access: "prod-db · read-only", expires: "2026-11-29T15:00:00Z", approvers: "bob" } });
    expect(slackButtons(slackPayload(granted))).toEqual([["button", "Open the request", url]]);
    expect(teamsActions(teamsPayload(granted))).toEqual([["Action.OpenUrl", "Open the request", url]]);
  });
  it("the schema subsets refuse a button or an action without its URL", () => {
    const slack = slackPayload(note()) as any;
    delete slack.blocks[2].elements[0].url;
    expect(ajv.validate(BLOCK_KIT, slack)).toBe(false);
    const teams = teamsPayload(note()) as any;
    delete teams.attachments[0].content.actions[0].url;
    expect(ajv.validate(ADAPTIVE_CARD_MESSAGE, teams)).toBe(false);
  });
  it("break-glass is loud in both: a danger button, an attention title", () => {
    const bg = note({ event: "break-glass", view: { requester: "alice", access: "prod-db · read-write", duration: "1h", reason: "outage", approvers: "@acme/oncall" } });
    expect((slackPayload(bg) as any).blocks[2].elements[0].style).toBe("danger");
    expect((slackPayload(bg) as any).text).toBe("🚨 BREAK-GLASS: alice → prod-db · read-write");
    expect((teamsPayload(bg) as any).attachments[0].content.body[0].color).toBe("Attention");
  });
});

describe("delivery, against real local servers", () => {
  let slack: Receiver;
  let teams: Receiver;
  beforeEach(async () => {
    [slack, teams] = await Promise.all([startReceiver(), startReceiver()]);
  });
  afterEach(async () => {
    await Promise.all([slack.close(), teams.close()]);
  });
  const quiet = { warn() {} };
  const notifier = () => new Notifier({ JIT_SLACK_URL: slack.url, JIT_TEAMS_URL: teams.url }, quiet, { backoffMs: [5, 10], timeoutMs: 2_000 });

  it("posts one message to each destination", async () => {
    const n = notifier();
    const failures: string[] = [];
    n.send(note(), async (_n, d, r) => void failures.push(`${d}: ${r}`));
    await n.settled();
    expect(failures).toEqual([]);
    expect(slack.received).toHaveLength(1);
    expect(teams.received).toHaveLength(1);
    expect(slack.received[0]!.body.blocks[0].type).toBe("header");
    expect(teams.received[0]!.body.attachments[0].contentType).toBe("application/vnd.microsoft.card.adaptive");
  });

  it("retries a failing destination with backoff, and the other is not held up", async () => {
    slack.script.push(500, 429);
    const n = notifier();
    n.send(note(), async () => {});
    await n.settled();
    expect(slack.received).toHaveLength(3);
    expect(teams.received).toHaveLength(1);
  });

  it("reports a destination that keeps failing once, without its URL", async () => {
    slack.script.push(500, 500, 500);
    teams.script.push(404);
    const n = notifier();
    const failures: string[] = [];
    n.send(note(), async (_n, d, r) => void failures.push(`${d}: ${r}`));
    await n.settled();
    expect(failures.sort()).toEqual(["Microsoft Teams (JIT_TEAMS_URL): HTTP 404", "Slack (JIT_SLACK_URL): HTTP 500 after 3 attempts"]);
    expect(teams.received).toHaveLength(1); // a 4xx is not retried
    expect(failures.join(" ")).not.toContain("127.0.0.1");
  });

  it("a Retry-After beyond a minute ends the retries of that destination, and the report says why", async () => {
    slack.script.push({ status: 429, headers: { "retry-after": new Date(Date.now() + 2 * 3600_000).toUTCString() } });
    const n = notifier();
    const failures: string[] = [];
    n.send(note(), async (_n, d, r) => void failures.push(`${d}: ${r}`));
    await n.settled();
    expect(failures).toEqual([expect.stringMatching(/^Slack \(JIT_SLACK_URL\): HTTP 429: asked to retry after 7\d\d\d s, over the 60 s jit-access waits after 1 attempt$/)]);
    expect(slack.received).toHaveLength(1);
  });

  it("an unset environment variable is a failure reported like any other", async () => {
    const n = new Notifier({}, quiet, { backoffMs: [], timeoutMs: 1_000 });
    const failures: string[] = [];
    n.send(note({ destinations: { slackEnv: "JIT_SLACK_URL" } }), async (_n, d, r) => void failures.push(`${d}: ${r}`));
    await n.settled();
    expect(failures).toEqual(["Slack (JIT_SLACK_URL): the environment variable JIT_SLACK_URL is not set"]);
  });
});
