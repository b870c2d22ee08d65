import { createApp } from "./app.js";
import { appIdFromEnv } from "./config.js";
import { Notifier } from "./notify/deliver.js";
import { providerFactory } from "./providers/registry.js";

/**
 * The entry point `probot run ./lib/index.js` loads. Providers read their secrets from the
 * environment variables the policy names; the sweep runs every minute.
 */
export default createApp({
  appId: appIdFromEnv(process.env),
  providers: providerFactory(process.env),
  notifier: new Notifier(process.env, { warn: (m) => console.warn(m) }),
  sweepSchedule: "* * * * *",
});
