import { createApp } from "./app.js";
import { appIdFromEnv } from "./config.js";

/** The entry point `probot run ./lib/index.js` loads. The sweep runs every minute. */
export default createApp({ appId: appIdFromEnv(process.env), now: () => new Date(), sweepSchedule: "* * * * *" });
