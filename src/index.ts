import { policyEnvironment } from "./schemas/common.js";
import { createApp } from "./app.js";
import { appIdFromEnv, parseAccessRepositories, startupProblems } from "./config.js";
import { Notifier } from "./notify/deliver.js";
import { providerFactory } from "./providers/registry.js";
import { createSlackApp, slackSettings } from "./slack/setup.js";

/**
 * The app as Probot loads it — from lib/server.js (`npm start`, the image), or `probot run
 * ./lib/index.js` (without the app's logger: no redaction) — only once APP_ID and PRIVATE_KEY are
 * set; before that Probot serves its setup flow and never loads this. A configuration that would run
 * unsafely — no WEBHOOK_SECRET, a malformed JIT_ACCESS_REPOSITORIES — stops the process here,
 * before it serves a single webhook. Providers read their secrets from the environment variables
 * the policy names; the sweep runs every minute. With REDIS_URL (which Probot reads too, for its
 * cluster-wide throttling) the process is one of several replicas.
 */
const problems = startupProblems(process.env);
if (problems.length > 0) {
  for (const problem of problems) console.error(`jit-access cannot start: ${problem}`);
  process.exit(1);
}
const repositories = parseAccessRepositories(process.env.JIT_ACCESS_REPOSITORIES);
// The Slack app, when JIT_SLACK_BOT_TOKEN is set: all of its settings, or no start.
const slack = slackSettings(process.env);
if (slack && "problems" in slack) {
  for (const problem of slack.problems) console.error(`jit-access cannot start: ${problem}`);
  process.exit(1);
}
const slackLog = { info: (m: string) => console.info(m), warn: (m: string) => console.warn(m) };
const slackApp = slack
  ? await createSlackApp(slack.settings, { ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}), log: slackLog }).catch((error: unknown) => {
      console.error(`jit-access cannot start: the Slack app's state cannot be opened: ${(error as Error).message}`);
      process.exit(1);
    })
  : undefined;

const app = createApp({
  appId: appIdFromEnv(process.env),
  // Built without the server's own secrets: an approved policy can name only what was set aside for it.
  providers: providerFactory(policyEnvironment(process.env)),
  notifier: new Notifier(policyEnvironment(process.env), { warn: (m) => console.warn(m) }),
  repositories: repositories.ok ? repositories.repositories : { names: new Set() },
  sweepSchedule: "* * * * *",
  ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
  ...(slackApp ? { slack: slackApp } : {}),
});

// A pod's stop (SIGTERM): /readyz turns 503 at once, queued work finishes (10 s at most), the
// scheduler lease is handed over so another replica takes it at once, then the process exits —
// which closes the HTTP server last. `probot run` itself only handles SIGINT.
process.once("SIGTERM", () => {
  void app.drain({ graceMs: 10_000 }).finally(() => process.exit(0));
});

export default app;
