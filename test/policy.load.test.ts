import { describe, expect, it } from "@jest/globals";
import { BUILTIN_DEFAULTS, loadPolicy } from "../src/policy/load.js";
import { PROVIDER_NAMES } from "../src/providers/table.js";
import { POLICY } from "./helpers/fixtures.js";

const P = ".github/jit-access.yml";
function errors(text: string): string[] {
  const r = loadPolicy(P, text);
  return r.ok ? [] : r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
}

describe("loading the policy", () => {
  it("accepts the policy of the spec and resolves each role's settings", () => {
    const r = loadPolicy(P, POLICY);
    if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
    const ro = r.policy.role("prod-db", "read-only")!;
    expect(ro).toMatchObject({ provider: "postgres", maxDurationMs: 4 * 3600_000, pendingTimeoutMs: 4 * 3600_000, reasonMinLength: 10, merge: "auto" });
    expect(ro.approvals).toEqual({ minPerGroup: 1, mode: "all" });
    expect(ro.grant).toEqual({ roles: ["analytics_read"] });
    // prod-admins/member sets only max_duration; the rest comes from defaults.
    expect(r.policy.role("prod-admins", "member")).toMatchObject({ maxDurationMs: 8 * 3600_000, pendingTimeoutMs: 24 * 3600_000, expiryWarningMs: 10 * 60_000 });
    expect(r.policy.role("prod-db", "nope")).toBeUndefined();
    // Slack decisions: on for roles unless a role or `defaults` turns them off, off for break-glass unless it says so.
    expect(r.policy.breakGlass).toEqual({ approvers: ["@acme/oncall"], maxDurationMs: 3600_000, approveInChat: false });
    expect(r.policy.role("prod-admins", "member")!.approveInChat).toBe(true);
  });

  it("falls back to the built-in defaults where the policy has none", () => {
    const r = loadPolicy(P, "version: 1\nresources:\n  x:\n    provider: github-team\n    config: { org: acme, team: x }\n    roles:\n      member: {}\n");
    if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
    expect(r.policy.role("x", "member")).toMatchObject({ maxDurationMs: 8 * 3600_000, reasonMinLength: BUILTIN_DEFAULTS.reason_min_length, merge: "auto", approvals: { minPerGroup: 1, mode: "all" } });
  });

  it("reports an unknown top-level key at its line", () => {
    expect(errors(POLICY + "owners: []\n")).toEqual(['34:1 unknown key "owners"']);
  });
  it("reports a wrong version", () => {
    expect(errors(POLICY.replace("version: 1", "version: 2"))).toEqual(["1:10 version must be 1; got 2"]);
  });
  it("reports a provider that does not exist", () => {
    expect(errors(POLICY.replace("provider: github-team", "provider: oracle"))).toEqual([
      `27:15 unknown provider "oracle"; known providers: ${PROVIDER_NAMES.join(", ")}`,
    ]);
  });
  it("checks each provider's config and grant settings", () => {
    expect(errors(POLICY.replace("config: { url_env: JIT_PROD_DB_URL }", "config: { url: postgres://admin:hunter2@db }"))).toEqual([
      '14:5 prod-db.config: missing required key "url_env"',
      '14:15 prod-db.config: unknown key "url"',
    ]);
    expect(errors(POLICY.replace("grant: { roles: [analytics_read] }", "grant: { roles: [] }"))).toEqual([
      "19:25 prod-db.read-only.grant: roles must have at least 1 entries",
    ]);
  });
  it("never echoes the value of an unknown key (it may be a secret pasted by mistake)", () => {
    const text = errors(POLICY.replace("config: { url_env: JIT_PROD_DB_URL }", "config: { url_env: JIT_PROD_DB_URL, password: hunter2 }")).join("\n");
    expect(text).toContain('unknown key "password"');
    expect(text).not.toContain("hunter2");
  });
  it("requires environment variable names, not values, for secrets", () => {
    expect(errors(POLICY.replace("url_env: JIT_PROD_DB_URL", "url_env: postgres://x"))).toEqual([
      '14:24 prod-db.config: url_env must be the name of an environment variable starting with JIT_ (then A-Z, 0-9, _), and not one of the server\'s own settings (the Slack app\'s JIT_SLACK_BOT_TOKEN, JIT_SLACK_SIGNING_SECRET, JIT_SLACK_TOKEN_KEY, …, JIT_PUBLIC_URL, JIT_EXEC_COMMANDS, JIT_ACCESS_REPOSITORIES, JIT_TRUSTED_POLICY_SHAS): the policy may only name variables set aside for it; got "postgres://x"',
    ]);
  });
  it("reports a ticket_pattern that is not a regular expression", () => {
    expect(errors(POLICY.replace('"^INC-[0-9]+$"', '"^INC-[0-9+$"'))).toEqual([
      "23:25 ticket_pattern is not a valid regular expression: missing closing ]: `[0-9+$`",
    ]);
  });
  it("reports durations of zero", () => {
    expect(errors(POLICY.replace("max_duration: 1h", "max_duration: 0m"))).toEqual(["33:17 break_glass.max_duration must be longer than 0m"]);
  });
  it("reports an approvals mode it does not know", () => {
    expect(errors(POLICY.replace("mode: all }\n      read-write", "mode: most }\n      read-write"))).toEqual([
      '20:46 resources.prod-db.roles.read-only.approvals.mode must be all or any; got "most"',
    ]);
  });
  it("reports a resource without roles", () => {
    expect(errors("version: 1\nresources:\n  x:\n    provider: webhook\n    config: { url_env: JIT_U, secret_env: JIT_S }\n    roles: {}\n")).toEqual([
      "6:12 resources.x.roles must not be empty",
    ]);
  });
});
