import { benchAccessPlan } from "./access-plan.js";
import { benchAckLatency } from "./ack-latency.js";
import { benchApiCost } from "./api-cost.js";
import { benchBurst } from "./burst.js";
import { benchLifecycleCost } from "./lifecycle-cost.js";
import { benchExpiryLag, benchSweepCost } from "./expiry.js";
import { benchProviders } from "./providers.js";
import { benchMysqlProvider } from "./providers-mysql.js";
import { benchNetworkProviders } from "./providers-net.js";
import { benchReplicas } from "./replicas.js";
import { benchSlackClicks } from "./slack-clicks.js";
import { benchSoak } from "./soak.js";
import { benchValidateGrant } from "./validate-grant.js";

/**
 * `npm run bench`: speed and cost, measured. Figures are medians and percentiles of many runs;
 * GitHub API costs are request counts. Nothing here is asserted by the test suite.
 */
const sections: [string, () => string[] | Promise<string[]>][] = [
  ["Grant validation (pure core)", () => benchValidateGrant()],
  ["Access plan of a policy change (pure core)", () => benchAccessPlan()],
  ["GitHub API requests per evaluation", () => benchApiCost()],
  ["A burst of 12 grants approved at once, Probot's throttle on, GitHub answering in 50 ms: before (one lane, no cache) and after", () => benchBurst()],
  ["GitHub API requests of one full lifecycle of a grant (open, approvals, merge, apply, end, revoke, revert PR)", () => benchLifecycleCost()],
  [
    "Expiry lag (in-memory GitHub with a set latency, real timers)",
    async () => [
      ...(await benchExpiryLag(20, 1)),
      ...(await benchExpiryLag(200, 1)),
      ...(await benchExpiryLag(0)),
      ...(await benchExpiryLag(20)),
      ...(await benchExpiryLag(50)),
      ...(await benchExpiryLag(200)),
    ],
  ],
  ["GitHub API requests of the start-up rebuild and per sweep, 1,000 live grants", () => benchSweepCost()],
  ["Webhook ack latency: 100 deliveries at once, ~10 writes each, Probot's throttle on (real HTTP, HMAC-signed)", () => benchAckLatency()],
  ["Two replicas and Redis: 200 deliveries and 100 expiries in the same second", () => benchReplicas()],
  ["Provider apply and revoke latency, one grant at a time (local servers and in-repo fakes)", () => benchProviders()],
  ["Provider latency: mysql apply and revoke against a real MariaDB on loopback", () => benchMysqlProvider()],
  ["Provider latency: ssh (signing) and ldap (a local slapd)", () => benchNetworkProviders()],
  ["Slack: a burst of 50 Approve clicks (real HTTP, signed), answered within Slack's 3 s", async () => [...(await benchSlackClicks(50, 20)), ...(await benchSlackClicks(50, 20)), ...(await benchSlackClicks(50, 20))]],
  ["Soak: 1,000 grants over 30 simulated minutes, GitHub failing 3% of requests (502/429) and the provider 5% of calls", () => benchSoak()],
];

// `JIT_BENCH=<words>` runs only the sections whose titles contain them (case-insensitive).
const only = process.env.JIT_BENCH?.toLowerCase();
for (const [title, run] of sections) {
  if (only && !title.toLowerCase().includes(only)) continue;
  console.log(`\n## ${title}`);
  for (const line of await run()) console.log(line);
}
