import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { output } from "../../src/cli/terminal.js";
import { buildCli, type BuiltCli } from "../helpers/built-cli.js";
import { grantYaml } from "../helpers/fixtures.js";
import { GitHistory } from "../helpers/git-history.js";

/**
 * `jit` as people run it: its own process, on a pseudo-terminal (util-linux `script`, part of every
 * Debian system) and in a pipe. Nothing is faked inside the process: whether stdout is a terminal
 * is what the kernel says, the token comes from the real environment or a `gh` found on PATH, and
 * GitHub is a loopback HTTP server that records what it was sent.
 */
const SCRIPT = execFileSync("sh", ["-c", "command -v script"], { encoding: "utf8" }).trim();
const GIT = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();

let cli: BuiltCli;
let bin: string;
beforeAll(() => {
  cli = buildCli();
  // PATH holds git and, where a test puts one there, gh: never the machine's own gh.
  bin = mkdtempSync(join(tmpdir(), "jit-bin-"));
  symlinkSync(GIT, join(bin, "git"));
});
afterAll(() => {
  cli?.dispose();
  rmSync(bin, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
const baseEnv = () => ({ PATH: bin, SHELL: "/bin/sh", HOME: bin, LANG: "C.UTF-8" });

/** In a pipe: stdout and stderr apart. */
function piped(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli.main, ...args], { env: { ...baseEnv(), ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** On a pseudo-terminal: what the terminal received (stdout and stderr, as a person sees them), newlines as written. */
function onTerminal(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const command = ["exec", quote(process.execPath), quote(cli.main), ...args.map(quote)].join(" ");
  return new Promise((resolve) => {
    const child = execFile(SCRIPT, ["-qfec", command, "/dev/null"], { env: { ...baseEnv(), ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: stdout.replace(/\r\n/g, "\n"), stderr }),
    );
    child.stdin?.end();
  });
}

/** What a terminal would obey, besides the colour codes jit writes itself. */
const RAW_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const SGR = /\u001b\[\d+m/g;
const plain = (text: string) => text.replace(SGR, "");

describe("columns on a terminal (pure)", () => {
  it("are aligned by display width: a wide (CJK) character takes two columns, an escaped control its visible text", () => {
    const out = output({ isTTY: true, env: { NO_COLOR: "1" } });
    expect(out.table([["漢字", "x"], ["ab", "y"], ["a\u0007", "z"]])).toBe("漢字     x\nab       y\na\\u0007  z\n");
  });

  it("no rows, nothing printed; the last column is never padded", () => {
    const out = output({ isTTY: true, env: {} });
    expect(out.table([])).toBe("");
    expect(out.table([["a", "long"], ["bbb", "s"]])).toBe("a    long\nbbb  s\n");
  });
});

describe("jit audit on a terminal and in a pipe", () => {
  let history: GitHistory;
  beforeAll(() => {
    history = new GitHistory();
    history
      .write("grants/prod-db/alice-1.yaml", grantYaml())
      .commit("2026-11-02T10:00:00Z", "jit: alice → prod-db/read-only for 2h (#7)\n\nJit-Approved-By: bob")
      // YAML's \e and \a: an OSC sequence that would retitle the window, and a right-to-left override.
      .write("grants/prod-db/mallory-1.yaml", grantYaml({ requester: '"\\e]0;owned\\amallory\\u202e"', role: '"=cmd|x"' }))
      .commit("2026-11-03T10:00:00Z", "jit: mallory (#12)\n\nJit-Approved-By: carol");
  });
  afterAll(() => history.dispose());
  const audit = (...more: string[]) => ["audit", "-C", history.root, ...more];

  it("on a pseudo-terminal: columns aligned, colour, hostile text escaped visibly", async () => {
    const r = await onTerminal(audit());
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("pr") || l.startsWith("#"));
    expect(lines).toHaveLength(3);
    // Every row's resource column starts where the header's does, colour codes aside.
    const at = plain(lines[0]!).indexOf("resource");
    for (const line of lines.slice(1)) expect(plain(line).indexOf("prod-db")).toBe(at);
    expect(plain(lines[2]!)).toContain("#12  \\u001b]0;owned\\u0007mallory\\u202e  prod-db");
    expect(r.stdout).toContain("\u001b[31mfalse\u001b[39m"); // unverified, in red
    expect(r.stdout.replace(SGR, "")).not.toMatch(RAW_CONTROLS);
    // The warning on stderr reaches the same terminal.
    expect(r.stdout).toContain("jit: warning: 2 grant(s) shown from git history alone, unverified");
  });

  it("on a pseudo-terminal with NO_COLOR: the same columns, no colour", async () => {
    const [coloured, r] = [await onTerminal(audit()), await onTerminal(audit(), { NO_COLOR: "1" })];
    expect(r.stdout).not.toContain("\u001b");
    expect(r.stdout).toBe(plain(coloured.stdout));
  });

  it("in a pipe: tab-separated, no padding, no colour, bare numbers; the warning on stderr", async () => {
    const r = await piped(audit());
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("\u001b");
    expect(r.stdout.split("\n")).toEqual([
      "pr\trequester\tresource\trole\tduration\tapprovers\tmerged\tended\toutcome\tverified",
      "7\talice\tprod-db\tread-only\t2h\tbob\t2026-11-02T10:00:00.000Z\t\tlive\tfalse",
      "12\t\\u001b]0;owned\\u0007mallory\\u202e\tprod-db\t=cmd|x\t2h\tcarol\t2026-11-03T10:00:00.000Z\t\tlive\tfalse",
      "",
    ]);
    expect(r.stderr).toMatch(/^jit: warning: 2 grant\(s\) shown from git history alone/);
  });

  it("FORCE_COLOR colours a pipe, which stays tab-separated; NO_COLOR still wins", async () => {
    const forced = await piped(audit(), { FORCE_COLOR: "1" });
    expect(forced.stdout.split("\n")[1]).toBe("7\talice\tprod-db\tread-only\t2h\tbob\t2026-11-02T10:00:00.000Z\t\tlive\t\u001b[31mfalse\u001b[39m");
    expect((await piped(audit(), { FORCE_COLOR: "1", NO_COLOR: "1" })).stdout).not.toContain("\u001b");
  });

  it("CSV in a pipe: a cell a spreadsheet would run as a formula starts with a quote", async () => {
    const r = await piped(audit("--format", "csv"));
    expect(r.stdout.split("\n")[2]).toBe("12,\u001b]0;owned\u0007mallory\u202e,prod-db,'=cmd|x,2h,carol,false,2026-11-03T10:00:00.000Z,,,,live,false,grants/prod-db/mallory-1.yaml");
  });

  it("CSV on a terminal is escaped like everything else", async () => {
    const r = await onTerminal(audit("--format", "csv"));
    expect(r.stdout).toContain("12,\\u001b]0;owned\\u0007mallory\\u202e,prod-db,'=cmd|x,");
    expect(r.stdout).not.toMatch(RAW_CONTROLS);
  });
});

describe("gh's manners in a real process", () => {
  it("--version prints package.json's version; help shows examples and the exit codes", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(await onTerminal(["--version"])).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = await piped(["--help"]);
    expect(help.stdout).toContain("Examples:\n  $ jit request prod-db");
    expect(help.stdout).toContain("control\ncharacters escaped (as \\u001b)");
    expect(help.stdout).not.toMatch(RAW_CONTROLS);
    expect(help.stdout).toContain("Exit codes: 0 ok, 1 a check failed, 2 usage, 3 GitHub error, 4 auth needed,\n  70 internal error");
  });

  describe("token order and exit codes, against a loopback GitHub", () => {
    let server: Server;
    let url = "";
    const seen: string[] = [];
    /** What the loopback GitHub answers: 401 (a GitHub error), or a pull request with no head (a bug in jit reading it). */
    let mode: "unauthorized" | "headless" = "unauthorized";
    beforeAll(async () => {
      server = createServer((req, res) => {
        seen.push(`${req.method} ${req.url?.split("?")[0]} ${req.headers.authorization ?? "-"}`);
        res.setHeader("content-type", "application/json");
        if (mode === "unauthorized") return void res.writeHead(401).end(JSON.stringify({ message: "Bad credentials" }));
        if (req.url?.startsWith("/search/issues")) return void res.end(JSON.stringify({ total_count: 1, incomplete_results: false, items: [{ number: 41, title: "t", user: { login: "alice" } }] }));
        res.end(JSON.stringify({ number: 41 }));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    afterEach(() => {
      seen.length = 0;
      mode = "unauthorized";
      rmSync(join(bin, "gh"), { force: true });
    });
    const fakeGh = (script: string) => {
      writeFileSync(join(bin, "gh"), `#!/bin/sh\n${script}\n`);
      chmodSync(join(bin, "gh"), 0o755);
    };
    const status = (env: Record<string, string>) => piped(["status", "--repo", "acme/access"], { GITHUB_API_URL: url, ...env });

    it("GH_TOKEN before GITHUB_TOKEN before `gh auth token`; GitHub's refusal is exit 3", async () => {
      fakeGh('[ "$1 $2" = "auth token" ] && echo from-gh');
      const r = await status({ GH_TOKEN: "from-gh-token", GITHUB_TOKEN: "from-github-token" });
      expect(r).toMatchObject({ code: 3, stdout: "", stderr: "jit: searching requests failed (HTTP 401): Bad credentials\n" });
      await status({ GITHUB_TOKEN: "from-github-token" });
      await status({});
      expect(seen.map((s) => s.split(" ").slice(2).join(" "))).toEqual(["token from-gh-token", "token from-github-token", "token from-gh"]);
    });

    it("no token and no gh, or a gh that is signed out: exit 4, and GitHub hears nothing", async () => {
      const none = await status({});
      expect(none.code).toBe(4);
      expect(none.stderr).toMatch(/^jit: auth needed: set GH_TOKEN or GITHUB_TOKEN, or sign in with `gh auth login`/);
      fakeGh('echo "You are not logged into any GitHub hosts." >&2; exit 1');
      expect((await status({})).code).toBe(4);
      expect(seen).toEqual([]);
    });

    it("a bug in jit is exit 70 and says so, not a GitHub error", async () => {
      mode = "headless";
      const r = await status({ GH_TOKEN: "t" });
      expect(r.code).toBe(70);
      expect(r.stderr).toMatch(/^jit: internal error: .*\n\(run again with --debug for the stack trace\)\n$/);
    });

    it("usage errors are exit 2; a failed check is exit 1; success is 0", async () => {
      expect((await piped(["status", "--no-such-flag"])).code).toBe(2);
      expect((await piped(["revoke", "seven"])).code).toBe(2);
      const empty = mkdtempSync(join(tmpdir(), "jit-empty-"));
      try {
        expect(await piped(["validate", "-C", empty])).toMatchObject({ code: 1, stdout: ".github/jit-access.yml:1:1: no policy: .github/jit-access.yml is missing, so this is not an access repository\n" });
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
      expect((await piped(["--version"])).code).toBe(0);
    });
  });
});
