import { createApp } from "./app.js";
import { appIdFromEnv } from "./config.js";
import { Notifier } from "./notify/deliver.js";
import { providerFactory } from "./providers/registry.js";

/**
 * The entry point `probot run ./lib/index.js` loads. Providers read their secrets from the
 * environment variables the policy names; the sweep runs every minute. With REDIS_URL (which
 * Probot reads too, for its cluster-wide throttling) the process is one of several replicas.
 */
const app = createApp({
  appId: appIdFromEnv(process.env),
  providers: providerFactory(process.env),
  notifier: new Notifier(process.env, { warn: (m) => console.warn(m) }),
  sweepSchedule: "* * * * *",
  ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
});

// A container stop (SIGTERM): let running evaluations finish (10 s at most), hand the scheduler
// lease over so another replica takes it at once, then exit. `probot run` itself only handles SIGINT.
process.once("SIGTERM", () => {
  const grace = new Promise((resolve) => setTimeout(resolve, 10_000).unref());
  void Promise.race([app.queue.idle(), grace])
    .then(() => app.close())
    .finally(() => process.exit(0));
});

export default app;
