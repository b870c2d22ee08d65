import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { Octokit } from "@octokit/rest";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { runCli } from "../../src/cli/program.js";
import { CODEOWNERS, contents, grantYaml, POLICY } from "../helpers/fixtures.js";
import { githubApi } from "../helpers/github-mock.js";
import { guardNetwork } from "../helpers/setup-nock.js";
import { headOf, mockHead, mockRecord, mockRun, mockRuns, recordRun } from "./records.js";

guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
const R = "/repos/acme/access";
const quiet = () => {};
const github = () => new Octokit({ auth: "ghp_test", log: { debug: quiet, info: quiet, warn: quiet, error: quiet } });

async function jit(argv: string[], extra: { cwd?: string; env?: Record<string, string>; noClient?: boolean; isTTY?: boolean } = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    cwd: extra.cwd ?? process.cwd(),
    now: () => NOW,
    env: extra.env ?? {},
    ...(extra.noClient ? {} : { github: github() }),
    sleep: async () => {},
    randomId: () => "a1b2",
    isTTY: extra.isTTY ?? false,
  });
  return { code, stdout, stderr };
}

function mockRepoAndPolicy(api: ReturnType<typeof githubApi>) {
  api.get("/user").reply(200, { login: "alice" });
  api.get(R).reply(200, { default_branch: "main", full_name: "acme/access" });
  api.get(`${R}/contents/${encodeURIComponent(".github/jit-access.yml")}`).query({ ref: "main" }).reply(200, contents(".github/jit-access.yml", POLICY));
}


describe("jit request", () => {
  const PATH = "grants/prod-db/alice-20261129-130000-a1b2.yaml";

  it("validates, then creates exactly the branch, the grant file and the PR; prints its URL and approvers", async () => {
    const api = githubApi();
    mockRepoAndPolicy(api);
    api.get(`${R}/contents/${encodeURIComponent(".github/CODEOWNERS")}`).query({ ref: "main" }).reply(200, contents(".github/CODEOWNERS", CODEOWNERS));
    api.get(`${R}/git/ref/heads%2Fmain`).reply(200, { object: { sha: "f".repeat(40) } });
    api.post(`${R}/git/refs`, { ref: "refs/heads/jit/alice-20261129-130000-a1b2", sha: "f".repeat(40) }).reply(201, {});
    let file: any;
    api.put(`${R}/contents/${encodeURIComponent(PATH)}`, (b) => ((file = b), true)).reply(201, {});
    let pr: any;
    api.post(`${R}/pulls`, (b) => ((pr = b), true)).reply(201, { html_url: "https://github.com/acme/access/pull/42", number: 42 });
    const r = await jit(["request", "prod-db", "--role", "read-only", "--duration", "2h", "--reason", "Investigate INC-4211: slow checkout queries", "--ticket", "INC-4211", "--repo", "acme/access"]);
    api.done();
    expect(r).toEqual({ code: 0, stderr: "", stdout: "https://github.com/acme/access/pull/42\napprovers: @acme/dba, @acme/security\n" });
    expect(file.branch).toBe("jit/alice-20261129-130000-a1b2");
    expect(parse(Buffer.from(file.content, "base64").toString("utf8"))).toEqual({
      requester: "alice", resource: "prod-db", role: "read-only", duration: "2h", reason: "Investigate INC-4211: slow checkout queries", ticket: "INC-4211",
    });
    expect(pr).toMatchObject({ head: "jit/alice-20261129-130000-a1b2", base: "main", title: "jit: alice → prod-db/read-only for 2h" });
  });

  it("a policy violation creates nothing and exits 1 with the reason", async () => {
    const api = githubApi();
    mockRepoAndPolicy(api); // and nothing else: no branch, no file, no PR
    const r = await jit(["request", "prod-db", "--role", "read-only", "--duration", "9h", "--reason", "Investigate INC-4211 slowness", "--repo", "acme/access"]);
    api.done();
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("jit: the request is not valid; nothing was created:\n  duration 9h is longer than 4h, the most prod-db/read-only allows\n");
  });

  it("without a token (and no gh on the PATH) exits 4, and a GitHub failure exits 3 with one line", async () => {
    expect(await jit(["request", "prod-db", "--role", "r", "--duration", "1h", "--reason", "x", "--repo", "acme/access"], { noClient: true })).toEqual({
      code: 4, stdout: "", stderr: "jit: auth needed: set GH_TOKEN or GITHUB_TOKEN, or sign in with `gh auth login`, to a token that may read and open pull requests in the access repository\n",
    });
    const api = githubApi();
    api.get("/user").reply(401, { message: "Bad credentials" });
    const r = await jit(["request", "prod-db", "--role", "r", "--duration", "1h", "--reason", "x", "--repo", "acme/access"]);
    api.done();
    expect(r).toEqual({ code: 3, stdout: "", stderr: "jit: reading the signed-in user failed (HTTP 401): Bad credentials\n" });
  });

  it("exits 2 on a missing option", async () => {
    expect((await jit(["request", "prod-db", "--duration", "1h"])).code).toBe(2);
  });
});

describe("jit status", () => {
  it("lists pending and live requests with missing approvals and time left", async () => {
    const api = githubApi();
    const hit = (number: number, title: string) => ({ number, title, user: { login: "alice" } });
    const search = (q: string, items: unknown[]) => api.get("/search/issues").query({ q, per_page: 100 }).reply(200, { total_count: items.length, incomplete_results: false, items });
    search('is:pr is:open label:"jit:pending" repo:acme/access', [hit(41, "jit: alice → prod-db/read-only")]);
    search('is:pr is:merged label:"jit:pending" repo:acme/access', []);
    search('is:pr is:merged label:"jit:approved" repo:acme/access', [hit(7, "jit: bob → prod-admins/member")]);
    const grant = (requester: string, resource: string, role: string, duration: string) => ({ requester, resource, role, duration, reason: "x" });
    mockRecord(api, 41, { status: "PENDING", grant: grant("alice", "prod-db", "read-only", "2h"), waiting_for: ["@acme/security"] });
    mockRecord(api, 7, { status: "APPROVED", grant: grant("bob", "prod-admins", "member", "2h"), expires_at: "2026-11-29T14:30:00.000Z" });
    const r = await jit(["status", "--repo", "acme/access"], { isTTY: true, env: { NO_COLOR: "1" } });
    api.done();
    expect(r.stdout).toBe("#7   LIVE     bob    prod-admins/member for 2h  1h30m left\n#41  PENDING  alice  prod-db/read-only for 2h   waiting for @acme/security\n");
  });
});

describe("jit revoke", () => {
  it("posts /jit revoke and reports the outcome once jit-access has carried it out", async () => {
    const api = githubApi();
    mockHead(api, 7);
    api.post(`${R}/issues/7/comments`, { body: "/jit revoke done early" }).reply(201, { id: 90, user: { login: "alice" } });
    const approved = recordRun(7, { status: "APPROVED" });
    mockRuns(api, 7, [approved]);
    mockRun(api, approved);
    const revoked = recordRun(7, { status: "REVOKED", revoked_at: "2026-11-29T13:00:03.000Z", ended_by: "revoked by alice: done early" }, { id: 600 });
    mockRuns(api, 7, [approved, revoked]);
    mockRun(api, revoked);
    const r = await jit(["revoke", "7", "--reason", "done early", "--repo", "acme/access"]);
    api.done();
    expect(r).toEqual({ code: 0, stderr: "", stdout: "#7: access taken away at 2026-11-29T13:00:03.000Z (revoked by alice: done early)\n" });
  });

  it("exits 1 when jit-access refuses, and 3 when it does not answer in time", async () => {
    const api = githubApi();
    mockHead(api, 7);
    api.post(`${R}/issues/7/comments`).reply(201, { id: 90, user: { login: "mallory" } });
    const refusing = recordRun(7, { status: "APPROVED", answered: [90] });
    mockRuns(api, 7, [refusing]);
    mockRun(api, refusing);
    const refused = await jit(["revoke", "7", "--repo", "acme/access"]);
    expect(refused.code).toBe(1);
    mockHead(api, 7);
    api.post(`${R}/issues/7/comments`).reply(201, { id: 91, user: { login: "alice" } });
    const live = recordRun(7, { status: "APPROVED" });
    for (let i = 0; i < 2; i++) {
      mockRuns(api, 7, [live]);
      mockRun(api, live);
    }
    const silent = await jit(["revoke", "7", "--repo", "acme/access", "--timeout", "2"]);
    api.done();
    expect(silent.code).toBe(3);
    expect(silent.stderr).toBe("jit: #7: no answer from jit-access within 2s; the command stays on the pull request and is carried out when the app sees it\n");
  });
});

describe("jit audit, from a real git repository", () => {
  let root: string;
  const git = (...args: string[]) => execFileSync("git", ["-C", root, ...args], { stdio: "pipe", env: { ...process.env, GIT_AUTHOR_NAME: "jit-access[bot]", GIT_AUTHOR_EMAIL: "bot@example.invalid", GIT_COMMITTER_NAME: "jit-access[bot]", GIT_COMMITTER_EMAIL: "bot@example.invalid", GIT_COMMITTER_DATE: commitDate, GIT_AUTHOR_DATE: commitDate } });
  let commitDate = "";
  const at = (date: string) => (commitDate = date);
  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  const commit = (date: string, message: string) => {
    at(date);
    git("add", "-A");
    git("commit", "-q", "-m", message);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "jit-audit-"));
    at("2026-11-01T09:00:00.000Z");
    git("init", "-q", "-b", "main");
    write(".github/jit-access.yml", POLICY);
    commit("2026-11-01T09:00:00.000Z", "policy");
    // Approved, then expired (the app's squash merge, then its revert).
    write("grants/prod-db/alice-1.yaml", grantYaml());
    commit("2026-11-02T10:00:00.000Z", "jit: alice → prod-db/read-only for 2h (#7)\n\nJit-Requester: alice\nJit-Access: prod-db/read-only\nJit-Duration: 2h\nJit-Approved-By: bob\nJit-Approved-By: carol");
    rmSync(join(root, "grants/prod-db/alice-1.yaml"));
    commit("2026-11-02T12:00:01.000Z", "jit: end #7 — alice prod-db/read-only expired (#9)");
    // Approved, then revoked early.
    write("grants/prod-admins/bob-1.yaml", grantYaml({ requester: "bob", resource: "prod-admins", role: "member", duration: "8h" }));
    commit("2026-11-03T10:00:00.000Z", "jit: bob → prod-admins/member for 8h (#10)\n\nJit-Requester: bob\nJit-Access: prod-admins/member\nJit-Duration: 8h\nJit-Approved-By: pat");
    rmSync(join(root, "grants/prod-admins/bob-1.yaml"));
    commit("2026-11-03T11:00:00.000Z", "jit: end #10 — bob prod-admins/member revoked (#11)");
    // Merged without meeting the policy: rejected, reverted.
    write("grants/prod-db/carol-1.yaml", grantYaml({ requester: "carol", emergency: true, duration: "1h" }));
    commit("2026-11-04T10:00:00.000Z", "Add grant (#12)");
    rmSync(join(root, "grants/prod-db/carol-1.yaml"));
    commit("2026-11-04T10:00:05.000Z", "jit: revert #12 (merged without meeting the policy) (#13)");
    // Still live.
    write("grants/prod-db/dave-1.yaml", grantYaml({ requester: "dave" }));
    commit("2026-11-05T10:00:00.000Z", "jit: dave → prod-db/read-only for 2h (#14)\n\nJit-Requester: dave\nJit-Approved-By: bob");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("tells every grant's life — approvers, window of merge and end, and how it ended — with no token", async () => {
    const r = await jit(["audit", "--format", "json", "-C", root], { cwd: root, env: {}, noClient: true });
    expect(r.code).toBe(0);
    const lives = JSON.parse(r.stdout);
    expect(lives.map((l: any) => [l.pr, l.requester, `${l.resource}/${l.role}`, l.approvers.join(" "), l.breakGlass, l.merged, l.ended, l.outcome])).toEqual([
      [7, "alice", "prod-db/read-only", "bob carol", false, "2026-11-02T10:00:00.000Z", "2026-11-02T12:00:01.000Z", "expired"],
      [10, "bob", "prod-admins/member", "pat", false, "2026-11-03T10:00:00.000Z", "2026-11-03T11:00:00.000Z", "revoked"],
      [12, "carol", "prod-db/read-only", "", true, "2026-11-04T10:00:00.000Z", "2026-11-04T10:00:05.000Z", "rejected"],
      [14, "dave", "prod-db/read-only", "bob", false, "2026-11-05T10:00:00.000Z", null, "live"],
    ]);
  });

  it("filters by --since and prints a table and CSV", async () => {
    const table = await jit(["audit", "--since", "2026-11-04", "-C", root], { cwd: root, env: { NO_COLOR: "1" }, noClient: true, isTTY: true });
    expect(table.stdout).toBe(
      "pr   requester  resource  role       duration  approvers  merged                    ended                     outcome   verified\n" +
        "#12  carol      prod-db   read-only  1h                   2026-11-04T10:00:00.000Z  2026-11-04T10:00:05.000Z  rejected  false\n" +
        "#14  dave       prod-db   read-only  2h        bob        2026-11-05T10:00:00.000Z                            live      false\n",
    );
    // With no token nothing could be checked against a record: said once, on stderr.
    expect(table.stderr).toBe("jit: warning: 2 grant(s) shown from git history alone, unverified: set GH_TOKEN to check their Jit-* trailers against jit-access's records\n");
    const csv = await jit(["audit", "--format", "csv", "-C", root], { cwd: root, env: {}, noClient: true });
    expect(csv.stdout.split("\n")[0]).toBe("pr,requester,resource,role,duration,approvers,breakGlass,merged,applied,expires,ended,outcome,verified,path");
    expect(csv.stdout.split("\n")[1]).toBe("7,alice,prod-db,read-only,2h,bob carol,false,2026-11-02T10:00:00.000Z,,,2026-11-02T12:00:01.000Z,expired,false,grants/prod-db/alice-1.yaml");
  });

  it("refuses a folder that is not a git clone, with exit 2", async () => {
    const empty = mkdtempSync(join(tmpdir(), "jit-empty-"));
    const r = await jit(["audit", "-C", empty], { cwd: empty, env: {}, noClient: true });
    rmSync(empty, { recursive: true, force: true });
    expect(r.code).toBe(2);
  });
});
