import { describe, expect, it } from "@jest/globals";
import { Octokit } from "@octokit/rest";
import { loadPolicy } from "../../src/policy/load.js";
import { providerFactory } from "../../src/providers/registry.js";
import { PROVIDER_NAMES, PROVIDERS } from "../../src/providers/table.js";
import { PolicySchema } from "../../src/schemas/policy.js";

const gh = new Octokit({ auth: "ghs_test" });

/** One valid `config` and `grant` per provider, written as policy YAML. A new table entry without one fails below. */
const EXAMPLES: Record<string, { config: string; grant: string }> = {
  "github-team": { config: "{ org: acme, team: prod-admins }", grant: "{}" },
  postgres: { config: "{ url_env: JIT_PROD_DB_URL, users: { alice: alice_ro } }", grant: "{ roles: [analytics_read] }" },
  mysql: { config: "{ url_env: JIT_ORDERS_DB_URL, users: { alice: alice_ro@10.0.% }, host: '%' }", grant: "{ role: analytics_read, create_role: true, end_sessions: true }" },
  exec: {
    config: "{ command: /usr/local/bin/baton-okta, apply_args: ['--grant-entitlement', '{{grant.entitlement}}', '--grant-principal', '{{user}}'], timeout_seconds: 60, env: { BATON_API_TOKEN: JIT_OKTA_TOKEN }, users: { alice: alice@acme.test } }",
    grant: "{ entitlement: 'group:00g1:member', emergency: false }",
  },
  webhook: { config: "{ url_env: JIT_HOOK_URL, secret_env: JIT_HOOK_SECRET }", grant: "{ scope: refunds }" },
  "aws-identity-center": {
    config: "{ instance_arn: 'arn:aws:sso:::instance/ssoins-1111222233334444', region: eu-west-1, account_id: '123456789012', principals: { alice: 9067d7e4-1234-4abc-8def-0123456789ab } }",
    grant: "{ permission_set_arn: 'arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd' }",
  },
  kubernetes: { config: "{ kubeconfig_env: JIT_PROD_KUBECONFIG, namespace: payments, subject: 'oidc:{login}' }", grant: "{ role: payments-operator }" },
};

const policyFor = (provider: string, config = "{}", grant = "{}") =>
  `version: 1\nresources:\n  x:\n    provider: ${provider}\n    config: ${config}\n    roles:\n      r: { grant: ${grant} }\n`;

const METHODS = ["units", "held", "apply", "revoke", "describe"] as const;

describe("the provider table", () => {
  it("has an example for every entry, and names each provider once", () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual([...PROVIDER_NAMES].sort());
    expect(new Set(PROVIDER_NAMES).size).toBe(PROVIDERS.length);
  });

  it.each(PROVIDERS.map((p) => [p.name, p] as const))("%s: its example passes the policy check, and it creates a provider", (name, definition) => {
    const example = EXAMPLES[name]!;
    const loaded = loadPolicy(".github/jit-access.yml", policyFor(name, example.config, example.grant));
    expect(loaded.ok ? [] : loaded.diagnostics).toEqual([]);
    expect(definition.description.length).toBeGreaterThan(0);
    const provider = definition.create({ env: {}, gh });
    for (const method of METHODS) expect(typeof provider[method]).toBe("function");
  });

  it.each(PROVIDERS.map((p) => [p.name] as const))("%s: the policy check applies its own config schema (an unknown key is refused)", (name) => {
    const loaded = loadPolicy(".github/jit-access.yml", policyFor(name, "{ surely_not_a_setting: 1 }"));
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) expect(loaded.diagnostics.map((d) => d.message)).toContainEqual(expect.stringContaining('unknown key "surely_not_a_setting"'));
  });

  it("is the only table: the executor builds exactly the providers the policy check accepts", () => {
    const build = providerFactory({});
    const candidates = [...PROVIDER_NAMES, "ldap", "GitHub-Team", "Postgres", "constructor", "toString", "__proto__", "hasOwnProperty", ""];
    const built = candidates.filter((name) => build(name, gh) !== undefined);
    const accepted = candidates.filter((name) => {
      const loaded = loadPolicy(".github/jit-access.yml", policyFor(JSON.stringify(name)));
      return loaded.ok || !loaded.diagnostics.some((d) => d.message.startsWith("unknown provider") || d.message.includes("provider must"));
    });
    expect(built).toEqual([...PROVIDER_NAMES]);
    expect(accepted).toEqual([...PROVIDER_NAMES]);
  });

  it("names every provider in the policy schema's description of `provider`", () => {
    const resource = (PolicySchema.properties.resources as unknown as { patternProperties: Record<string, { properties: { provider: { description: string } } }> }).patternProperties;
    const description = Object.values(resource)[0]!.properties.provider.description;
    for (const name of PROVIDER_NAMES) expect(description).toContain(name);
  });
});
