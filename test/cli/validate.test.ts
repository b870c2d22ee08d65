import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runCli } from "../../src/cli/program.js";
import { CODEOWNERS, grantYaml, POLICY } from "../helpers/fixtures.js";

let root: string;
const NOW = new Date("2026-11-29T13:00:00Z");

function write(path: string, content: string) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

async function jit(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: root, now: () => NOW });
  return { code, stdout, stderr };
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "jit-validate-"));
  write(".github/jit-access.yml", POLICY);
  write(".github/CODEOWNERS", CODEOWNERS);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("jit validate", () => {
  it("passes a valid checkout with exit 0", async () => {
    write("grants/prod-db/alice-1.yaml", grantYaml());
    const r = await jit("validate");
    expect(r).toEqual({ code: 0, stdout: "", stderr: "ok: checked the policy and 1 grant file(s)\n" });
  });

  it("accepts a policy using the mysql and exec providers and end_sessions, and checks their settings", async () => {
    const providers = `version: 1
resources:
  orders-db:
    provider: mysql
    config: { url_env: JIT_ORDERS_DB_URL, users: { alice: "alice@10.0.%" } }
    roles:
      read: { max_duration: 4h, grant: { role: orders_read, create_role: true, end_sessions: true } }
  prod-db:
    provider: postgres
    config: { url_env: JIT_PROD_DB_URL }
    roles:
      read-only: { grant: { roles: [analytics_read], end_sessions: true } }
  okta:
    provider: exec
    config:
      command: /usr/local/bin/baton-okta
      apply_args: [--grant-entitlement, "{{grant.entitlement}}", --grant-principal, "{{user}}", --grant-principal-type, user]
      revoke_args: [--revoke-grant, "{{grant.entitlement}}:user:{{user}}"]
      env: { BATON_API_TOKEN: JIT_OKTA_TOKEN }
    roles:
      admins: { grant: { entitlement: "group:00g1:member" } }
`;
    write(".github/jit-access.yml", providers);
    write(".github/CODEOWNERS", "/grants/ @acme/dbas\n");
    write("grants/orders-db/alice-1.yaml", grantYaml({ resource: "orders-db", role: "read" }));
    expect(await jit("validate")).toEqual({ code: 0, stdout: "", stderr: "ok: checked the policy and 1 grant file(s)\n" });
    write(".github/jit-access.yml", providers.replace("end_sessions: true } }\n  prod-db", "end_sessions: yes please } }\n  prod-db").replace('"{{user}}", --grant-principal-type', '"{{login}}", --grant-principal-type'));
    const r = await jit("validate");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("orders-db.read.grant: end_sessions must be true or false");
    expect(r.stdout).toContain('okta.config: apply_args.3 must be an argument, with only these placeholders');
  });

  it("prints file:line:col errors and exits 1", async () => {
    write("grants/prod-db/alice-1.yaml", grantYaml({ duration: "5h" }));
    write("grants/prod-admins/alice-2.yaml", grantYaml({ resource: "prod-admins", role: "member", colour: "red" }));
    const r = await jit("validate");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      'grants/prod-admins/alice-2.yaml:6:1: unknown key "colour"\n' +
        "grants/prod-db/alice-1.yaml:4:11: duration 5h is longer than 4h, the most prod-db/read-only allows\n",
    );
  });

  it("checks explicit paths as new requests (start may not be in the past)", async () => {
    write("grants/prod-db/alice-1.yaml", grantYaml({ start: "2026-11-28T00:00:00Z" }));
    expect((await jit("validate")).code).toBe(0);
    const r = await jit("validate", "grants/prod-db/alice-1.yaml");
    expect(r.stdout).toBe("grants/prod-db/alice-1.yaml:6:8: start 2026-11-28T00:00:00Z is before the request was made (2026-11-29T13:00:00.000Z)\n");
  });

  it("reports a grant whose path has no approvers in CODEOWNERS", async () => {
    write(".github/CODEOWNERS", "/grants/prod-admins/ @acme/platform\n");
    write("grants/prod-db/alice-1.yaml", grantYaml());
    const r = await jit("validate");
    expect(r.stdout).toBe("grants/prod-db/alice-1.yaml:1:1: no approvers mapped: .github/CODEOWNERS gives grants/prod-db/alice-1.yaml no owners\n");
  });

  it("reports a broken policy at its line, and CODEOWNERS problems as warnings", async () => {
    write(".github/jit-access.yml", POLICY.replace("mode: all }\n      read-write", "mode: most }\n      read-write"));
    write(".github/CODEOWNERS", CODEOWNERS + "/grants/x/ dba@acme.example\n");
    const r = await jit("validate");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      '.github/jit-access.yml:20:46: resources.prod-db.roles.read-only.approvals.mode must be all or any; got "most"\n' +
        ".github/CODEOWNERS:5:1: warning: email owner dba@acme.example cannot be checked against reviews; use @login or @org/team\n",
    );
  });

  it("gives machines JSON with --json", async () => {
    write("grants/prod-db/alice-1.yaml", "requester: [oops\n");
    const r = await jit("validate", "--json");
    const report = JSON.parse(r.stdout);
    expect(r.code).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.errors[0]).toMatchObject({ path: "grants/prod-db/alice-1.yaml", line: 2 });
  });

  it("says so when the checkout is not an access repository", async () => {
    rmSync(join(root, ".github/jit-access.yml"));
    const r = await jit("validate");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(".github/jit-access.yml:1:1: no policy: .github/jit-access.yml is missing, so this is not an access repository\n");
  });

  it("exits 2 on a usage error and 0 for --help", async () => {
    expect((await jit("validate", "--frobnicate")).code).toBe(2);
    expect((await jit("nonsense")).code).toBe(2);
    const help = await jit("validate", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--json");
  });
});
