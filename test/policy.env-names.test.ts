import { describe, expect, it } from "@jest/globals";
import { loadPolicy } from "../src/policy/load.js";
import { POLICY } from "./helpers/fixtures.js";

/**
 * A policy names the environment variables that hold its secrets and URLs. Whoever can change the
 * policy must not be able to point a provider or a notification at the server's own variables
 * (`url_env: PRIVATE_KEY` would send the app's private key wherever the policy says), so only
 * names starting with JIT_ are accepted: the variables an operator set aside for policies.
 */
const P = ".github/jit-access.yml";
function errors(text: string): string[] {
  const r = loadPolicy(P, text);
  return r.ok ? [] : r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
}
const RULE = "the name of an environment variable starting with JIT_ (then A-Z, 0-9, _), and not one of the server's own settings (the Slack app's JIT_SLACK_BOT_TOKEN, JIT_SLACK_SIGNING_SECRET, JIT_SLACK_TOKEN_KEY, …, JIT_PUBLIC_URL, JIT_EXEC_COMMANDS, JIT_ACCESS_REPOSITORIES, JIT_TRUSTED_POLICY_SHAS): the policy may only name variables set aside for it";
const withDbUrlEnv = (name: string) => POLICY.replace(/url_env: [A-Z0-9_]+/, `url_env: ${name}`);

describe("environment variable names in the policy", () => {
  it("refuses url_env: PRIVATE_KEY at its line and column", () => {
    expect(errors(withDbUrlEnv("PRIVATE_KEY"))).toEqual([`14:24 prod-db.config: url_env must be ${RULE}; got "PRIVATE_KEY"`]);
  });

  it("refuses the server's own JIT_ settings: the Slack app's secrets, its public URL, the exec allow-list", () => {
    for (const name of ["JIT_SLACK_TOKEN_KEY", "JIT_SLACK_SIGNING_SECRET", "JIT_SLACK_BOT_TOKEN", "JIT_PUBLIC_URL", "JIT_EXEC_COMMANDS", "JIT_ACCESS_REPOSITORIES", "JIT_TRUSTED_POLICY_SHAS"]) {
      expect(errors(withDbUrlEnv(name))).toEqual([`14:24 prod-db.config: url_env must be ${RULE}; got "${name}"`]);
    }
    // Names that merely start like them are the operator's to set aside.
    expect(errors(withDbUrlEnv("JIT_PUBLIC_URL_OF_DB"))).toEqual([]);
  });

  it("refuses other names outside JIT_: the app's own settings, a bare prefix, lower case", () => {
    for (const name of ["WEBHOOK_SECRET", "GITHUB_TOKEN", "JIT_", "jit_prod_db_url", "JITPROD", "XJIT_PROD"]) {
      expect(errors(withDbUrlEnv(name))).toEqual([`14:24 prod-db.config: url_env must be ${RULE}; got "${name}"`]);
    }
  });

  it("refuses a webhook's secret_env outside JIT_", () => {
    const policy = POLICY.replace(
      "break_glass:",
      "  billing:\n    provider: webhook\n    config: { url_env: JIT_BILLING_URL, secret_env: PRIVATE_KEY }\n    roles:\n      operator: { grant: { scope: refunds } }\nbreak_glass:",
    );
    expect(errors(policy)).toEqual([`33:53 billing.config: secret_env must be ${RULE}; got "PRIVATE_KEY"`]);
  });

  it("refuses notification destinations outside JIT_, the policy's and a resource's own", () => {
    expect(errors(`${POLICY}notifications:\n  slack_webhook_env: SLACK_WEBHOOK_URL\n`)).toEqual([
      `35:22 notifications.slack_webhook_env must be ${RULE}; got "SLACK_WEBHOOK_URL"`,
    ]);
    const own = POLICY.replace("    provider: github-team\n", "    provider: github-team\n    notifications: { teams_webhook_env: APP_ID }\n");
    expect(errors(own)).toEqual([`28:41 resources.prod-admins.notifications.teams_webhook_env must be ${RULE}; got "APP_ID"`]);
  });

  it("accepts JIT_ names", () => {
    expect(errors(withDbUrlEnv("JIT_PROD_DB_URL"))).toEqual([]);
    expect(errors(`${withDbUrlEnv("JIT_1")}notifications: { slack_webhook_env: JIT_SLACK_WEBHOOK_URL, teams_webhook_env: JIT_TEAMS_2 }\n`)).toEqual([]);
  });
});
