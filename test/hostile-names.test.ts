import { beforeEach, describe, expect, it } from "@jest/globals";
import type { Probot } from "probot";
import { parseGrant } from "../src/grant/parse.js";
import { checkGrantRules } from "../src/grant/rules.js";
import { destinationsFor } from "../src/notify/message.js";
import { loadPolicy, type LoadedPolicy } from "../src/policy/load.js";
import { PROVIDER_NAMES } from "../src/providers/table.js";
import { startApp } from "./helpers/app.js";
import { CODEOWNERS, grantYaml, POLICY } from "./helpers/fixtures.js";
import { failedRequest, mockTeamLists, prFields, type Scenario } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

/**
 * Names a requester or a policy author chooses are data, never a way into JavaScript's object
 * model: `constructor`, `toString`, `hasOwnProperty` and `__proto__` are ordinary unknown names.
 */
guardNetwork();
const P = ".github/jit-access.yml";
const policy = (text = POLICY): LoadedPolicy => {
  const r = loadPolicy(P, text);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.policy;
};
const INHERITED = ["constructor", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString"];

function problems(text: string, path: string): string[] {
  const parsed = parseGrant(path, text);
  if (!parsed.ok) return parsed.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
  const facts = { author: "alice", requestedAt: new Date("2026-11-29T13:00:00Z"), requesterAllowed: true };
  return checkGrantRules(parsed, policy(), facts).diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
}

describe("a grant naming a property every JavaScript object inherits", () => {
  it.each(INHERITED)("resource: %s is an unknown resource, reported at its line", (name) => {
    expect(problems(grantYaml({ resource: name }), `grants/${name}/alice-1.yaml`)).toEqual([
      `2:11 unknown resource "${name}"; the policy has: prod-db, prod-admins`,
    ]);
  });

  it.each(INHERITED)("role: %s is an unknown role, reported at its line", (name) => {
    expect(problems(grantYaml({ role: name }), "grants/prod-db/alice-1.yaml")).toEqual([`3:7 unknown role "${name}" for prod-db; it has: read-only, read-write`]);
  });

  it("__proto__ is not a name at all: a schema error at its line, as resource or role", () => {
    const notAName = (key: string, at: string) =>
      `${at} ${key} must be a name of letters, digits, '.', '_' and '-' (at most 64, starting and ending with a letter or digit); got "__proto__"`;
    expect(problems(grantYaml({ resource: "__proto__" }), "grants/__proto__/alice-1.yaml")).toEqual([notAName("resource", "2:11")]);
    expect(problems(grantYaml({ role: "__proto__" }), "grants/prod-db/alice-1.yaml")).toEqual([notAName("role", "3:7")]);
  });

  it("notifications of an unknown resource fall back to the policy's, never to an inherited property", () => {
    const p = policy(`${POLICY}notifications: { slack_webhook_env: JIT_SLACK_WEBHOOK_URL }\n`);
    for (const name of INHERITED) expect(destinationsFor(p, name)).toEqual({ slackEnv: "JIT_SLACK_WEBHOOK_URL" });
  });
});

describe("a policy naming a provider every JavaScript object inherits", () => {
  it.each([...INHERITED, "__proto__"])("provider: %s is an unknown provider at its line, and loading never throws", (name) => {
    const r = loadPolicy(P, POLICY.replace("provider: github-team", `provider: ${name}`));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`)).toEqual([
      `27:15 unknown provider "${name}"; known providers: ${PROVIDER_NAMES.join(", ")}`,
    ]);
  });

  it("resources and roles named like inherited properties are ordinary names when the policy defines them", () => {
    const text = `version: 1
resources:
  constructor:
    provider: github-team
    config: { org: acme, team: ops }
    roles:
      toString: { max_duration: 1h }
`;
    const p = policy(text);
    expect(p.role("constructor", "toString")).toMatchObject({ provider: "github-team", maxDurationMs: 3600_000 });
    expect(p.role("constructor", "hasOwnProperty")).toBeUndefined();
    expect(p.role("toString", "toString")).toBeUndefined();
  });
});

describe("through the app", () => {
  let probot: Probot;
  beforeEach(async () => {
    probot = await startApp(new Date("2026-11-29T13:00:00Z"));
  });

  it("a request for resource: constructor fails its check at the line, with no crash", async () => {
    const path = "grants/constructor/alice-2026-11-29.yaml";
    const sc: Scenario = {
      pr: prFields(),
      files: [{ filename: path, status: "added", content: grantYaml({ resource: "constructor" }) }],
      policy: POLICY,
      codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS },
    };
    // The requester allow-list is checked before the rules report. The record (no check run yet)
    // was read with the snapshot; the new check carries it.
    const { check, comment } = await failedRequest(probot, sc, "full", (api) => {
      mockTeamLists(api, { "@acme/engineering:alice": "active" });
    });
    expect(check).toMatchObject({ status: "completed", conclusion: "failure", output: { text: comment.body } });
    expect(check.output.annotations).toEqual([
      expect.objectContaining({ path, start_line: 2, start_column: 11, message: 'unknown resource "constructor"; the policy has: prod-db, prod-admins' }),
    ]);
  });
});
