import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runCli } from "../../src/cli/program.js";
import { CODEOWNERS, POLICY } from "../helpers/fixtures.js";

/** `jit plan` on a real git repository made here: main holds the policy, a branch changes it. */
let root: string;
const NOW = new Date("2026-11-29T13:00:00Z");

function write(path: string, content: string) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}
const git = (...args: string[]) => execFileSync("git", ["-C", root, "-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { encoding: "utf8" });

async function jit(argv: string[], options: { isTTY?: boolean; env?: Record<string, string> } = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: root, now: () => NOW, ...options });
  return { code, stdout, stderr };
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "jit-plan-"));
  git("init", "-q", "-b", "main");
  write(".github/jit-access.yml", POLICY);
  write(".github/CODEOWNERS", CODEOWNERS);
  git("add", "-A");
  git("commit", "-qm", "policy");
  git("checkout", "-qb", "change");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function commit(policy: string, codeowners = CODEOWNERS) {
  write(".github/jit-access.yml", policy);
  write(".github/CODEOWNERS", codeowners);
  git("commit", "-qam", "change");
}

describe("jit plan", () => {
  it("prints the table and exits 3 when the change widens access", async () => {
    commit(POLICY.replace("max_duration: 4h", "max_duration: 12h").replace("max_duration: 2h", "max_duration: 1h"));
    const r = await jit(["plan", "--base", "main"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe(
      "main → HEAD: widens access: 1 role, narrows: 1 role\n" +
        "\nprod-db\n" +
        "⬆ widening\tread-only\tmax_duration\t4h\t→\t12h\n" +
        "⬇ narrowing\tread-write\tmax_duration\t2h\t→\t1h\n" +
        "\nlive grants are not checked offline: the pull request's check names those the new policy would not allow\n",
    );
  });

  it("exits 0 when it only narrows, and a CODEOWNERS change is planned too", async () => {
    commit(POLICY, `${CODEOWNERS}/grants/prod-admins/    @acme/platform @acme/security\n`);
    const r = await jit(["plan", "--base", "main"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("⬇ narrowing\tmember\tapprovers\t—\t→\t@acme/security");
  });

  it("--json gives the plan as data", async () => {
    commit(POLICY.replace('requesters: ["@acme/engineering"]', 'requesters: ["@acme/engineering", "@acme/contractors"]'));
    const r = await jit(["plan", "--base", "main", "--json"]);
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ base: "main", head: "HEAD", widens: true, summary: "widens access: 3 roles", baseProblems: [] });
    expect(report.plan.changes).toEqual([{ effect: "widening", field: "requesters", before: "—", after: "@acme/contractors", text: "who may request: adds @acme/contractors", where: ["requesters"] }]);
  });

  it("colours widening lines on a terminal, unless NO_COLOR", async () => {
    commit(POLICY.replace("max_duration: 4h", "max_duration: 12h"));
    const coloured = await jit(["plan", "--base", "main"], { isTTY: true, env: {} });
    expect(coloured.stdout).toContain("\u001b[31m⬆ widening\u001b[39m");
    const plain = await jit(["plan", "--base", "main"], { isTTY: true, env: { NO_COLOR: "1" } });
    expect(plain.stdout).not.toContain("\u001b[");
    expect(plain.stdout).toContain("⬆ widening  read-only  max_duration  4h  →  12h");
  });

  it("says nothing changed (exit 0) between equal refs", async () => {
    const r = await jit(["plan", "--base", "main", "--head", "main"]);
    expect(r).toEqual({ code: 0, stdout: "main → main: no change to access\n", stderr: "" });
  });

  it("refuses a ref that is not a commit, and an invalid policy at the head, with clear messages", async () => {
    const missing = await jit(["plan", "--base", "--output=/tmp/x"]);
    expect(missing).toMatchObject({ code: 2, stderr: `jit: --output=/tmp/x is not a commit of the git checkout at ${root}\n` });
    commit(POLICY.replace("version: 1", "version: 2"));
    const invalid = await jit(["plan", "--base", "main"]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain(".github/jit-access.yml:1:10: version must be 1; got 2");
  });

  it("with no policy on the base, every role is new (and widens)", async () => {
    git("checkout", "-q", "--orphan", "empty");
    git("rm", "-rfq", ".");
    write("README", "x");
    git("add", "README");
    git("commit", "-qm", "empty");
    git("checkout", "-q", "change");
    const r = await jit(["plan", "--base", "empty"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("widens access: 3 roles");
    expect(r.stdout).toContain("note: .github/jit-access.yml:1:1: empty has no .github/jit-access.yml: every role is new");
  });
});
