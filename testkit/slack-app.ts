import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Probot, ProbotOctokit, Server } from "probot";
import { createApp, type JitApp } from "../src/app.js";
import type { Clock } from "../src/scheduler/scheduler.js";
import { createSlackApp, type SlackApp, type SlackSettings } from "../src/slack/setup.js";
import type { FakeGitHub } from "./fake-github.js";
import { FakeSlack } from "./fake-slack.js";
import { freePort } from "./redis-server.js";
import { memoryProvider } from "./replica.js";

/**
 * jit-access as `probot run` serves it with the Slack app on (its interactions endpoint and link
 * pages on Probot's own HTTP server), talking to the in-memory GitHub and a fake Slack Web API.
 * Probot's throttling and retries are off, so GitHub answers at once.
 */
export const SLACK_CHANNEL = "C0ACCESS";
export const SIGNING_SECRET = "slack-signing-secret-never-shown";
export const SLACK_TOKEN = "xoxb-fake-bot-token-never-shown";
const WEBHOOK_SECRET = "webhook-secret-never-shown";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
const QuickOctokit = ProbotOctokit.defaults((o: Record<string, any>) => ({ ...o, retry: { ...o.retry, enabled: false }, throttle: { ...o.throttle, enabled: false } }));

export interface SlackHarness {
  app: JitApp;
  slackApp: SlackApp;
  slack: FakeSlack;
  memory: ReturnType<typeof memoryProvider>;
  base: string;
  settings: SlackSettings;
  /** Delivers every webhook the in-memory GitHub queued (and those that follow), until the app is quiet. */
  flush(): Promise<void>;
  /** Posts a form body to the interactions endpoint. */
  post(body: string, headers: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

export async function startSlackHarness(fake: FakeGitHub, o: { clock?: Clock; redisUrl?: string; linkMaxAgeMs?: number; settings?: Partial<SlackSettings> } = {}): Promise<SlackHarness> {
  const slack = await FakeSlack.start(SLACK_TOKEN);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const settings: SlackSettings = {
    token: SLACK_TOKEN,
    signingSecret: SIGNING_SECRET,
    key: randomBytes(32),
    publicUrl: base,
    linkMaxAgeMs: o.linkMaxAgeMs ?? 30 * 24 * 3600_000,
    stateFile: join(mkdtempSync(join(tmpdir(), "jit-slack-")), "state.json"),
    clientId: fake.oauthClient.id,
    clientSecret: fake.oauthClient.secret,
    ...o.settings,
  };
  const quiet = { info() {}, warn() {} };
  const slackApp = await createSlackApp(settings, { slackApiUrl: slack.apiUrl, fetch: fake.fetch as unknown as typeof globalThis.fetch, log: quiet, ...(o.redisUrl ? { redisUrl: o.redisUrl } : {}) });
  const memory = memoryProvider(o.clock ? () => o.clock!.now() : undefined);
  const app = createApp({ appId: fake.app.id, providers: () => memory.provider, sweepSchedule: null, slack: slackApp, ...(o.clock ? { clock: o.clock } : {}) });
  const server = new Server({
    host: "127.0.0.1",
    port,
    request: { fetch: fake.fetch },
    Probot: Probot.defaults({ appId: fake.app.id, privateKey, secret: WEBHOOK_SECRET, logLevel: (process.env.TEST_LOG_LEVEL ?? "fatal") as "fatal", Octokit: QuickOctokit, request: { fetch: fake.fetch } }),
  });
  let probot: Probot | undefined;
  await server.load(async (p, options) => {
    probot = p;
    await app(p, options);
  });
  const http = await server.start();
  const settled = async () => {
    for (let quietRounds = 0; quietRounds < 3; ) {
      await app.queue.idle();
      await slackApp.routes.settled();
      await new Promise((r) => setTimeout(r, 10));
      quietRounds = app.queue.depth === 0 ? quietRounds + 1 : 0;
    }
  };
  return {
    app,
    slackApp,
    slack,
    memory,
    base,
    settings,
    async flush() {
      await settled();
      while (fake.deliveries.length > 0) {
        const d = fake.deliveries.shift()!;
        await probot!.receive({ id: d.id, name: d.name, payload: d.payload } as Parameters<Probot["receive"]>[0]);
        await settled();
      }
    },
    post: (body, headers) => fetch(`${base}/slack/interactions`, { method: "POST", headers, body }),
    async stop() {
      await app.close();
      http.closeAllConnections();
      await server.stop();
      await slack.close();
    },
  };
}

/**
 * The end of GitHub's web flow, as a browser does it: back on the callback with `code` and `state`,
 * then the confirmation the page asks for (the Slack account it names is the holder's). Returns the
 * callback's page and the confirmation's answer (undefined when there was nothing to confirm).
 */
export async function completeLink(base: string, code: string, state: string): Promise<{ page: Response; pageText: string; confirmed?: Response }> {
  const page = await fetch(`${base}/slack/oauth/callback?code=${code}&state=${state}`);
  const pageText = await page.text();
  const token = /name="token" value="([^"]+)"/.exec(pageText)?.[1];
  if (!token) return { page, pageText };
  const confirmed = await fetch(`${base}/slack/link/confirm`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token }).toString() });
  return { page, pageText, confirmed };
}

/** The access repository's policy in the Slack tests: one github-team resource, its Slack channel; `roles` as YAML lines (indented 6). */
export function slackPolicy(roles = "      member: { max_duration: 8h }"): string {
  return `version: 1
resources:
  prod-admins:
    provider: github-team
    config: { org: acme, team: prod-admins }
    roles:
${roles}
notifications:
  slack:
    channel: ${SLACK_CHANNEL}
`;
}
