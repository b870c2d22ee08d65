import { WebClient } from "@slack/web-api";
import { parseDuration } from "../grant/duration.js";
import { connectRedis } from "../cluster/redis.js";
import { GitHubUser } from "./github-user.js";
import { AccountLinks } from "./links.js";
import { SlackMessages } from "./messages.js";
import { SlackRoutes } from "./routes.js";
import { parseSealKey } from "./seal.js";
import { FileKeyValue, MemoryKeyValue, RedisKeyValue, type KeyValue } from "./store.js";

/** The Slack app, ready to mount: its routes, the message keeper, the account links. */
export interface SlackApp {
  routes: SlackRoutes;
  messages: SlackMessages;
  links: AccountLinks;
  close(): Promise<void>;
}

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_LINK_MAX_AGE = "30d";
export const DEFAULT_STATE_FILE = ".jit-access/slack-state.json";

/** Where each Slack setting comes from (docs/guide/slack.md lists them). */
export const SLACK_ENV = {
  token: "JIT_SLACK_BOT_TOKEN",
  secret: "JIT_SLACK_SIGNING_SECRET",
  key: "JIT_SLACK_TOKEN_KEY",
  publicUrl: "JIT_PUBLIC_URL",
  linkMaxAge: "JIT_SLACK_LINK_MAX_AGE",
  stateFile: "JIT_SLACK_STATE_FILE",
  clientId: "GITHUB_CLIENT_ID",
  clientSecret: "GITHUB_CLIENT_SECRET",
} as const;

export interface SlackSettings {
  token: string;
  signingSecret: string;
  key: Buffer;
  publicUrl: string;
  linkMaxAgeMs: number;
  stateFile: string;
  clientId: string;
  clientSecret: string;
}

/**
 * The Slack app's settings from the environment: undefined when JIT_SLACK_BOT_TOKEN is not set
 * (the app is off; incoming webhooks still work); otherwise every setting it needs, or what is
 * missing (the process refuses to start rather than run half a Slack app). Values are never shown.
 */
export function slackSettings(env: Env): { settings: SlackSettings } | { problems: string[] } | undefined {
  const get = (name: string) => (Object.hasOwn(env, name) ? (env[name] ?? "").trim() : "");
  if (!get(SLACK_ENV.token)) return undefined;
  const problems: string[] = [];
  for (const name of [SLACK_ENV.secret, SLACK_ENV.publicUrl, SLACK_ENV.clientId, SLACK_ENV.clientSecret]) if (!get(name)) problems.push(`${name} is not set (the Slack app needs it once ${SLACK_ENV.token} is set)`);
  const key = parseSealKey(get(SLACK_ENV.key));
  if (typeof key === "string") problems.push(key);
  const publicUrl = get(SLACK_ENV.publicUrl).replace(/\/+$/, "");
  if (publicUrl && !/^https?:\/\/[^/\s]+(\/[^\s]*)?$/.test(publicUrl)) problems.push(`${SLACK_ENV.publicUrl} must be the app's public http(s) origin, like https://jit.example.com`);
  const maxAgeText = get(SLACK_ENV.linkMaxAge) || DEFAULT_LINK_MAX_AGE;
  const linkMaxAgeMs = parseDuration(maxAgeText);
  if (!linkMaxAgeMs || linkMaxAgeMs <= 0) problems.push(`${SLACK_ENV.linkMaxAge} must be a duration like 30d or 12h`);
  if (problems.length > 0 || typeof key === "string") return { problems };
  return {
    settings: {
      token: get(SLACK_ENV.token),
      signingSecret: get(SLACK_ENV.secret),
      key,
      publicUrl,
      linkMaxAgeMs: linkMaxAgeMs!,
      stateFile: get(SLACK_ENV.stateFile) || DEFAULT_STATE_FILE,
      clientId: get(SLACK_ENV.clientId),
      clientSecret: get(SLACK_ENV.clientSecret),
    },
  };
}

export interface SlackWiring {
  redisUrl?: string;
  /** Slack's Web API base (tests: a local fake). */
  slackApiUrl?: string;
  /** GitHub, as the rest of the app reaches it (tests: the in-memory GitHub). */
  fetch?: typeof globalThis.fetch;
  now?: () => Date;
  log: { info(msg: string): void; warn(msg: string): void };
}

export async function createSlackApp(s: SlackSettings, w: SlackWiring): Promise<SlackApp> {
  const now = w.now ?? (() => new Date());
  const redis = w.redisUrl ? connectRedis(w.redisUrl, w.log) : undefined;
  // Commands fail at once while the connection is down (cluster/redis.ts): the first click after a
  // start should not find it still connecting. Not connected within 5 s: it keeps trying (see /readyz).
  if (redis && redis.status !== "ready") await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5_000);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const store: KeyValue = redis ? new RedisKeyValue(redis) : await FileKeyValue.open(s.stateFile, () => now().getTime());
  const replay: KeyValue = redis ? store : new MemoryKeyValue(() => now().getTime());
  // Slack's own retries stay short: a message update is retried at the next change anyway.
  const client = new WebClient(s.token, { ...(w.slackApiUrl ? { slackApiUrl: w.slackApiUrl } : {}), timeout: 5_000, retryConfig: { retries: 1 }, rejectRateLimitedCalls: true });
  const links = new AccountLinks(store, s.key, s.linkMaxAgeMs, now);
  const messages = new SlackMessages(client, store, w.log, (githubId) => links.slackPeopleOf(githubId));
  const github = new GitHubUser({ clientId: s.clientId, clientSecret: s.clientSecret, ...(w.fetch ? { fetch: w.fetch } : {}), now });
  const routes = new SlackRoutes({ signingSecret: s.signingSecret, client, replay, links, github, messages, publicUrl: s.publicUrl, now, log: w.log });
  return {
    routes,
    messages,
    links,
    close: async () => {
      await routes.settled();
      redis?.disconnect();
    },
  };
}
