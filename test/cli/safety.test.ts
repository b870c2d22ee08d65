import { afterEach, describe, expect, it } from "@jest/globals";
import { Octokit } from "@octokit/rest";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/program.js";
import { grantYaml } from "../helpers/fixtures.js";
import { GitHistory } from "../helpers/git-history.js";
import { githubApi } from "../helpers/github-mock.js";
import { guardNetwork } from "../helpers/setup-nock.js";
import { mockHead, mockRecord, mockRun, mockRuns, OTHER_APP, recordRun } from "./records.js";

guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
const R = "/repos/acme/access";
const quiet = () => {};
const github = () => new Octokit({ auth: "ghp_test", log: { debug: quiet, info: quiet, warn: quiet, error: quiet } });

async function jit(argv: string[], o: { env?: Record<string, string>; isTTY?: boolean; noClient?: boolean; cwd?: string } = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    cwd: o.cwd ?? process.cwd(),
    now: () => NOW,
    env: o.env ?? {},
    ...(o.noClient ? {} : { github: github() }),
    sleep: async () => {},
    isTTY: o.isTTY ?? false,
  });
  return { code, stdout, stderr };
}

const search = (api: ReturnType<typeof githubApi>, hits: Record<string, unknown[]>) => {
  for (const [state, label] of [["is:open", "jit:pending"], ["is:merged", "jit:pending"], ["is:merged", "jit:approved"]] as const) {
    const items = hits[`${state} ${label}`] ?? [];
    api.get("/search/issues").query({ q: `is:pr ${state} label:"${label}" repo:acme/access`, per_page: 100 }).reply(200, { total_count: items.length, incomplete_results: false, items });
  }
};
const grant = (requester: string, reason = "x") => ({ requester, resource: "prod-db", role: "read-only", duration: "2h", reason });

/** A terminal obeys these: none may reach it raw. */
const RAW_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("hostile text is escaped, visibly, on a terminal", () => {
  it("jit status: an ESC sequence and a bidi override in a PR title and in the record's error", async () => {
    const api = githubApi();
    // #41 has no record: its title is shown. #42's record is APPLYING with a provider error.
    search(api, { "is:open jit:pending": [{ number: 41, title: "jit: \u001b]0;owned\u0007\u001b[2Jlegit \u202eexe.txt", user: { login: "mallory" } }], "is:merged jit:pending": [{ number: 42, title: "t", user: { login: "bob" } }] });
    mockRecord(api, 41, undefined);
    mockRecord(api, 42, { status: "APPLYING", grant: grant("bob"), error: "boom\u001b[31m red \u2066isolated\u2069\u009b" });
    const r = await jit(["status", "--repo", "acme/access"], { isTTY: true, env: { NO_COLOR: "1" } });
    api.done();
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROLS);
    expect(r.stdout).toContain("jit: \\u001b]0;owned\\u0007\\u001b[2Jlegit \\u202eexe.txt");
    expect(r.stdout).toContain("applying: boom\\u001b[31m red \\u2066isolated\\u2069\\u009b");
  });

  it("jit revoke: the reason the record ends with (typed by whoever revoked) is escaped", async () => {
    const api = githubApi();
    mockHead(api, 7);
    api.post(`${R}/issues/7/comments`).reply(201, { id: 90, user: { login: "alice" } });
    const run = recordRun(7, { status: "REVOKED", revoked_at: "2026-11-29T13:00:03.000Z", ended_by: "revoked by alice: \u001b[8mhidden\u001b[0m \u202egnp.exe\nfake line" });
    mockRuns(api, 7, [run]);
    mockRun(api, run);
    const r = await jit(["revoke", "7", "--repo", "acme/access"], { isTTY: true });
    api.done();
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("#7: access taken away at 2026-11-29T13:00:03.000Z (revoked by alice: \\u001b[8mhidden\\u001b[0m \\u202egnp.exe\nfake line)\n");
  });

  it("JSON output escapes C1 and bidi characters too, and still parses to the same strings", async () => {
    const api = githubApi();
    search(api, { "is:open jit:pending": [{ number: 41, title: "a\u202eb\u0085c", user: { login: "mallory" } }] });
    mockRecord(api, 41, undefined);
    const r = await jit(["status", "--json", "--repo", "acme/access"], { isTTY: true });
    api.done();
    expect(r.stdout).not.toMatch(RAW_CONTROLS);
    expect(JSON.parse(r.stdout)[0].access).toBe("a\u202eb\u0085c");
  });
});

describe("output for terminals and pipes", () => {
  const twoRows = (api: ReturnType<typeof githubApi>) => {
    search(api, { "is:open jit:pending": [{ number: 41, title: "t", user: { login: "alice" } }], "is:merged jit:approved": [{ number: 7, title: "t", user: { login: "bob" } }] });
    mockRecord(api, 41, { status: "PENDING", grant: grant("alice"), waiting_for: ["@acme/security"] });
    mockRecord(api, 7, { status: "APPROVED", grant: grant("bob"), expires_at: "2026-11-29T14:30:00.000Z" });
  };

  it("in a pipe: tab-separated, no padding, no colour, bare numbers", async () => {
    const api = githubApi();
    twoRows(api);
    const r = await jit(["status", "--repo", "acme/access"], { isTTY: false });
    api.done();
    expect(r.stdout).toBe("7\tLIVE\tbob\tprod-db/read-only for 2h\t1h30m left\n41\tPENDING\talice\tprod-db/read-only for 2h\twaiting for @acme/security\n");
  });

  it("on a terminal: colour, unless NO_COLOR is set", async () => {
    const api = githubApi();
    twoRows(api);
    const coloured = await jit(["status", "--repo", "acme/access"], { isTTY: true });
    twoRows(api);
    const plain = await jit(["status", "--repo", "acme/access"], { isTTY: true, env: { NO_COLOR: "1" } });
    api.done();
    expect(coloured.stdout).toBe("#7   \u001b[32mLIVE\u001b[39m     bob    prod-db/read-only for 2h  1h30m left\n#41  \u001b[33mPENDING\u001b[39m  alice  prod-db/read-only for 2h  waiting for @acme/security\n");
    expect(plain.stdout).toBe("#7   LIVE     bob    prod-db/read-only for 2h  1h30m left\n#41  PENDING  alice  prod-db/read-only for 2h  waiting for @acme/security\n");
  });
});

describe("only the trusted app's record is believed", () => {
  it("jit status: another app's jit-access run with a forged state, on the same PR, is not read; its own run is", async () => {
    const api = githubApi();
    search(api, { "is:open jit:pending": [{ number: 41, title: "jit: mallory → prod-db/read-only", user: { login: "mallory" } }] });
    mockHead(api, 41);
    // Newer (higher id) than nothing: the forger's run is the only one. It is listed, never read.
    mockRuns(api, 41, [recordRun(41, { status: "APPROVED", grant: grant("mallory"), expires_at: "2026-11-29T20:00:00.000Z" }, { app: OTHER_APP, id: 999 })]);
    const r = await jit(["status", "--json", "--repo", "acme/access"]);
    api.done();
    expect(JSON.parse(r.stdout)).toEqual([{ pr: 41, requester: "mallory", access: "jit: mallory → prod-db/read-only", status: "UNKNOWN", detail: "no record from jit-access" }]);
  });

  it("--app-id names the app in the query and a run of that slug under another id is not trusted", async () => {
    const api = githubApi();
    search(api, { "is:open jit:pending": [{ number: 41, title: "t", user: { login: "mallory" } }] });
    mockHead(api, 41);
    mockRuns(api, 41, [recordRun(41, { status: "APPROVED", grant: grant("mallory") }, { app: { id: 5, slug: "jit-access" } })], 4242);
    const r = await jit(["status", "--json", "--repo", "acme/access", "--app-id", "4242"]);
    api.done();
    expect(JSON.parse(r.stdout)[0].status).toBe("UNKNOWN");
    expect((await jit(["status", "--repo", "acme/access", "--app-id", "abc"])).code).toBe(2);
  });

  describe("jit audit, with a token", () => {
    let history: GitHistory | undefined;
    afterEach(() => history?.dispose());

    it("a forged Jit-Approved-By / Jit-Requester is shown unverified, with a warning; another app's forged record is not read", async () => {
      history = new GitHistory();
      history
        .write("grants/prod-db/alice-1.yaml", grantYaml())
        .commit("2026-11-02T10:00:00Z", "jit: alice → prod-db/read-only for 2h (#7)\n\nJit-Requester: alice\nJit-Approved-By: bob\nJit-Approved-By: mallory")
        .write("grants/prod-db/mallory-1.yaml", grantYaml({ requester: "mallory" }))
        .commit("2026-11-03T10:00:00Z", "jit: mallory → prod-db/read-only for 2h (#8)\n\nJit-Requester: mallory\nJit-Approved-By: carol");
      const api = githubApi();
      // #7: the app's record says only bob approved. #8: only another app's run, claiming carol.
      mockRecord(api, 7, { status: "APPROVED", grant: grant("alice"), approvers: ["bob"], applied_at: "2026-11-02T10:00:05.000Z", expires_at: "2026-11-02T12:00:05.000Z" });
      mockHead(api, 8);
      mockRuns(api, 8, [recordRun(8, { status: "APPROVED", grant: grant("mallory"), approvers: ["carol"] }, { app: OTHER_APP })]);
      api.get("/search/issues").query({ q: 'is:pr is:closed is:unmerged label:"jit:rejected" repo:acme/access', per_page: 100 }).reply(200, { total_count: 0, incomplete_results: false, items: [] });
      const r = await jit(["audit", "--format", "json", "--repo", "acme/access", "-C", history.root], { cwd: history.root });
      api.done();
      expect(r.code).toBe(0);
      const lives = JSON.parse(r.stdout);
      expect(lives.map((l: any) => [l.pr, l.approvers, l.verified, l.unverified, l.applied])).toEqual([
        [7, ["bob"], false, ["Jit-Approved-By: mallory"], "2026-11-02T10:00:05.000Z"],
        [8, ["carol"], false, ["Jit-Requester: mallory", "Jit-Approved-By: carol"], null],
      ]);
      expect(r.stderr).toBe(
        "jit: warning: #7: not backed by jit-access's record: Jit-Approved-By: mallory\n" +
          "jit: warning: #8: not backed by jit-access's record: Jit-Requester: mallory, Jit-Approved-By: carol\n",
      );
    });

    it("trailers the record backs are verified, and say nothing on stderr", async () => {
      history = new GitHistory();
      history.write("grants/prod-db/alice-1.yaml", grantYaml()).commit("2026-11-02T10:00:00Z", "jit: alice → prod-db/read-only for 2h (#7)\n\nJit-Requester: alice\nJit-Approved-By: Bob");
      const api = githubApi();
      mockRecord(api, 7, { status: "APPROVED", grant: grant("alice"), approvers: ["bob"] });
      api.get("/search/issues").query({ q: 'is:pr is:closed is:unmerged label:"jit:rejected" repo:acme/access', per_page: 100 }).reply(200, { total_count: 0, incomplete_results: false, items: [] });
      const r = await jit(["audit", "--format", "json", "--repo", "acme/access", "-C", history.root], { cwd: history.root });
      api.done();
      expect(JSON.parse(r.stdout)[0]).toMatchObject({ verified: true, unverified: [], approvers: ["bob"] });
      expect(r.stderr).toBe("");
    });
  });
});

describe("CSV cells that a spreadsheet would run are neutralised", () => {
  let history: GitHistory | undefined;
  afterEach(() => history?.dispose());

  it("cells starting with = + - @ get a leading quote", async () => {
    history = new GitHistory();
    history
      .write("grants/prod-db/x-1.yaml", grantYaml({ requester: '"=HYPERLINK(\\"http://evil.example\\",\\"x\\")"', role: '"+cmd"', duration: '"-2+3"' }))
      .commit("2026-11-02T10:00:00Z", "jit: x (#7)\n\nJit-Approved-By: @SUM(A1)");
    const r = await jit(["audit", "--format", "csv", "-C", history.root], { cwd: history.root, noClient: true });
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[1]).toBe(`7,"'=HYPERLINK(""http://evil.example"",""x"")",prod-db,'+cmd,'-2+3,'@SUM(A1),false,2026-11-02T10:00:00.000Z,,,,live,false,grants/prod-db/x-1.yaml`);
  });
});

describe("gh manners", () => {
  it("--version prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(await jit(["--version"])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("--help ends with examples", async () => {
    const r = await jit(["status", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Examples:\n  $ jit status\n");
    expect(r.stdout).toContain("--app-id <id>");
  });

  it.each(["validate", "request", "status", "inbox", "extend", "revoke", "audit"])("jit %s --help shows examples of that command", async (command) => {
    const r = await jit([command, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`\nExamples:\n {2}\\$ jit ${command}[ \n]`));
  });

  it("GH_TOKEN wins over GITHUB_TOKEN", async () => {
    const api = githubApi().matchHeader("authorization", "token gh-first");
    api.get("/user").reply(200, { login: "alice" });
    api.get(R).reply(200, { default_branch: "main" });
    api.get(`${R}/pulls`).query({ state: "open", base: "main", sort: "created", direction: "asc", per_page: 100 }).reply(200, []);
    const r = await jit(["inbox", "--repo", "acme/access", "--app-id", "1001"], { noClient: true, env: { GITHUB_TOKEN: "github-second", GH_TOKEN: "gh-first" } });
    api.done();
    expect(r.code).toBe(0);
  });

  it("with neither, the token `gh auth token` prints; without gh, exit 4", async () => {
    const bin = mkdtempSync(join(tmpdir(), "jit-gh-"));
    try {
      writeFileSync(join(bin, "gh"), '#!/bin/sh\n[ "$1 $2" = "auth token" ] && echo from-gh\n');
      chmodSync(join(bin, "gh"), 0o755);
      const api = githubApi().matchHeader("authorization", "token from-gh");
      api.get("/user").reply(200, { login: "alice" });
      api.get(R).reply(200, { default_branch: "main" });
      api.get(`${R}/pulls`).query({ state: "open", base: "main", sort: "created", direction: "asc", per_page: 100 }).reply(200, []);
      const r = await jit(["inbox", "--repo", "acme/access", "--app-id", "1001"], { noClient: true, env: { PATH: bin } });
      api.done();
      expect(r.code).toBe(0);
      expect((await jit(["inbox", "--repo", "acme/access"], { noClient: true, env: { PATH: join(bin, "none") } })).code).toBe(4);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("a GitHub 5xx is exit 3; a bug in jit is exit 70, said to be one", async () => {
    const api = githubApi();
    api.get("/search/issues").query(true).reply(502, { message: "Bad Gateway" });
    const github5xx = await jit(["status", "--repo", "acme/access"]);
    expect(github5xx).toEqual({ code: 3, stdout: "", stderr: "jit: searching requests failed (HTTP 502): Bad Gateway\n" });
    // A PR without a head: reading it throws a TypeError in jit, which is not GitHub's doing.
    const items = [{ number: 41, title: "t", user: { login: "alice" } }];
    api.get("/search/issues").query({ q: 'is:pr is:open label:"jit:pending" repo:acme/access', per_page: 100 }).reply(200, { total_count: 1, incomplete_results: false, items });
    api.get(`${R}/pulls/41`).reply(200, { number: 41 });
    const bug = await jit(["status", "--repo", "acme/access"]);
    api.done();
    expect(bug.code).toBe(70);
    expect(bug.stderr).toMatch(/^jit: internal error: .*\n\(run again with --debug for the stack trace\)\n$/);
  });
});
