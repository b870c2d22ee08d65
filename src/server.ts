import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { run } from "probot";
import { createLogger } from "./logging.js";

/**
 * What `npm start` and the image run: Probot's `run` (the setup flow until APP_ID and PRIVATE_KEY
 * are set, then the app) with this app's logger — JSON unless LOG_FORMAT=pretty, secrets
 * redacted (logging.ts). The app module is imported only once credentials exist, as `probot run`
 * would load it, so the setup flow needs no configuration.
 */
const log = await createLogger({ ...process.env, ...dotEnv() });
await run(async (probot, options) => {
  const { default: app } = await import("./index.js");
  await app(probot, options);
}, { log });

/** `.env` as Probot's `run` reads it (and applies, over the environment), for the logger's settings. */
function dotEnv(): Record<string, string> {
  try {
    return parseEnv(readFileSync(".env", "utf8")) as Record<string, string>;
  } catch {
    return {};
  }
}
