import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPolicy } from "../../src/policy/load.js";
import { CHILD_PATH } from "../../src/providers/exec-contract.js";
import { execProvider } from "../../src/providers/exec.js";
import { ProviderError, standingOf, unitsToRevoke, type GrantTarget } from "../../src/providers/types.js";

let dir: string;
const path = (name: string) => join(dir, name);

/** Writes an executable sh script into the test's temporary directory. */
function script(name: string, body: string): string {
  const file = path(name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Whether a process runs: a killed orphan may stay a zombie (state Z) where nothing reaps it. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

const read = (name: string) => (existsSync(path(name)) ? readFileSync(path(name), "utf8") : "");
const lines = (name: string) => read(name).split("\n").filter(Boolean);

let tool: string;

const target = (id: string, extra: Partial<GrantTarget> = {}, config: Record<string, unknown> = {}): GrantTarget => ({
  id,
  requester: "alice",
  requesterId: 4242,
  resource: "okta",
  role: "admins",
  provider: "exec",
  config: { command: tool, held_args: ["held", "{{user}}"], ...config },
  grant: { group: "00g-admins" },
  startsAt: "2026-11-29T13:00:00Z",
  expiresAt: "2026-11-29T15:00:00Z",
  pullRequest: "https://github.com/acme/access/pull/7",
  ...extra,
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "jitexec-"));
  // A small target: apply adds the unit to a state file once, revoke removes it, held lists the
  // user's units. Every run's argv is logged, one line per run.
  tool = script(
    "tool.sh",
    `state="${dir}/state"; touch "$state"
echo "$*" >> "${dir}/calls"
case "$1" in
  apply) grep -qxF "$JIT_UNIT" "$state" || echo "$JIT_UNIT" >> "$state" ;;
  revoke) grep -vxF "$JIT_UNIT" "$state" > "$state.new"; mv "$state.new" "$state" ;;
  held) grep -F ":$2" "$state" || true; echo "not-a-unit-of-ours" ;;
  *) echo "unknown action $1" >&2; exit 64 ;;
esac`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the exec provider, with local scripts", () => {
  const env = () => ({ JIT_EXEC_COMMANDS: `/usr/bin/true, ${tool}` });

  it("runs apply, revoke and held with the documented argv; replays with the same grant id leave the same state", async () => {
    rmSync(path("state"), { force: true });
    rmSync(path("calls"), { force: true });
    const p = execProvider(env());
    const t = target("acme/access#1");
    expect(await p.held(t)).toEqual([]);
    await p.apply(t);
    await p.apply(t); // a replay
    expect(lines("state")).toEqual(["exec:okta:admins:alice"]);
    expect(await p.held(t)).toEqual(["exec:okta:admins:alice"]); // the line it printed that is not a unit of this grant is ignored
    await p.revoke(t, unitsToRevoke(p, t, [], []));
    await p.revoke(t, unitsToRevoke(p, t, [], [])); // a replay
    expect(lines("state")).toEqual([]);
    expect(lines("calls")).toEqual(["held alice", "apply", "apply", "held alice", "revoke", "revoke"]);
  });

  it("counts references by unit: an overlapping grant keeps the access, and access held before is never revoked", async () => {
    rmSync(path("state"), { force: true });
    const p = execProvider(env());
    const first = target("acme/access#2");
    const second = target("acme/access#3");
    const firstStanding = standingOf(p, first, await p.held(first), []);
    await p.apply(first);
    const secondStanding = standingOf(p, second, await p.held(second), [{ target: first, standing: firstStanding }]);
    await p.apply(second);
    await p.revoke(first, unitsToRevoke(p, first, firstStanding, [{ target: second, standing: secondStanding }]));
    expect(lines("state")).toEqual(["exec:okta:admins:alice"]);
    await p.revoke(second, unitsToRevoke(p, second, secondStanding, []));
    expect(lines("state")).toEqual([]);

    writeFileSync(path("state"), "exec:okta:admins:alice\n"); // held before any grant
    const third = target("acme/access#4");
    const standing = standingOf(p, third, await p.held(third), []);
    expect(standing).toEqual(["exec:okta:admins:alice"]);
    await p.apply(third);
    await p.revoke(third, unitsToRevoke(p, third, standing, []));
    expect(lines("state")).toEqual(["exec:okta:admins:alice"]);
  });

  it("passes the grant's facts and only the variables config.env names: never the app's secrets", async () => {
    const dump = script("dump-env.sh", `env | sort > "${dir}/env"; echo "$@" > "${dir}/argv"`);
    const appEnv = {
      JIT_EXEC_COMMANDS: dump,
      PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY----- app key",
      WEBHOOK_SECRET: "whsec-app-secret",
      JIT_OTHER_TOKEN: "other-token-not-named",
      JIT_OKTA_TOKEN: "okta-token-1234",
      PATH: "/opt/app/node_modules/.bin:/usr/bin",
    };
    const t = target("acme/access#5", {}, { command: dump, apply_args: ["--user={{user}}", "{{grant.group}}", "{{expires_at}}", "{{pull_request}}"], env: { OKTA_API_TOKEN: "JIT_OKTA_TOKEN" } });
    await execProvider(appEnv).apply(t);
    const seen = Object.fromEntries(lines("env").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    expect(seen).toMatchObject({
      PATH: CHILD_PATH,
      OKTA_API_TOKEN: "okta-token-1234",
      JIT_ACTION: "apply",
      JIT_GRANT_ID: "acme/access#5",
      JIT_REQUESTER: "alice",
      JIT_REQUESTER_ID: "4242",
      JIT_USER: "alice",
      JIT_RESOURCE: "okta",
      JIT_ROLE: "admins",
      JIT_STARTS_AT: "2026-11-29T13:00:00Z",
      JIT_EXPIRES_AT: "2026-11-29T15:00:00Z",
      JIT_PULL_REQUEST: "https://github.com/acme/access/pull/7",
      JIT_UNIT: "exec:okta:admins:alice",
      JIT_GRANT: '{"group":"00g-admins"}',
    });
    const everything = read("env");
    for (const secret of ["app key", "whsec-app-secret", "other-token-not-named", "/opt/app"]) expect(everything).not.toContain(secret);
    for (const name of ["PRIVATE_KEY", "WEBHOOK_SECRET", "JIT_OTHER_TOKEN", "JIT_EXEC_COMMANDS", "JIT_OKTA_TOKEN"]) expect(Object.keys(seen)).not.toContain(name);
    // Each template item is one argument, whatever it holds: no shell splits or expands it.
    expect(read("argv").trim()).toBe("--user=alice 00g-admins 2026-11-29T15:00:00Z https://github.com/acme/access/pull/7");
    const tricky = target("acme/access#6", { grant: { group: "$(touch pwned); `id` *" } }, { command: dump, apply_args: ["{{grant.group}}"] });
    await execProvider(appEnv).apply(tricky);
    expect(read("argv").trim()).toBe("$(touch pwned); `id` *");
    expect(existsSync(join(tmpdir(), "pwned"))).toBe(false);
  });

  it("maps exit 75 to a temporary failure and any other exit to a permanent one, showing one redacted line", async () => {
    const temporary = script("busy.sh", `echo "the directory is busy, try later" >&2; exit 75`);
    const permanent = script(
      "fails.sh",
      `echo "connecting to https://svc:okta-token-1234@idp.internal.example/api (10.1.2.3)" >&2; echo "group 00g-admins: no such group for $OKTA_API_TOKEN at 10.1.2.3" >&2; exit 3`,
    );
    const appEnv = { JIT_EXEC_COMMANDS: `${temporary},${permanent}`, JIT_OKTA_TOKEN: "okta-token-1234" };
    const busy = (await execProvider(appEnv).apply(target("acme/access#7", {}, { command: temporary })).catch((e: unknown) => e)) as ProviderError;
    expect(busy).toBeInstanceOf(ProviderError);
    expect(busy).toMatchObject({ message: "okta: the apply command failed temporarily (exit 75); jit-access tries again: the directory is busy, try later", retryable: true });
    const failed = (await execProvider(appEnv).revoke(target("acme/access#8", {}, { command: permanent, env: { OKTA_API_TOKEN: "JIT_OKTA_TOKEN" } }), ["exec:okta:admins:alice"]).catch((e: unknown) => e)) as ProviderError;
    expect(failed).toMatchObject({ message: "okta: the revoke command failed (exit 3): group 00g-admins: no such group for [redacted] at [redacted]", retryable: false });
    expect(failed.detail).toContain("idp.internal.example");
    expect(failed.detail).not.toContain("okta-token-1234");
    const long = script("long.sh", `printf 'x%.0s' $(seq 1 5000) >&2; exit 1`);
    const tooLong = (await execProvider({ JIT_EXEC_COMMANDS: long }).apply(target("acme/access#9", {}, { command: long })).catch((e: unknown) => e)) as ProviderError;
    expect(tooLong.message.length).toBeLessThan(400);
  });

  it("kills a command that runs past its timeout, with the processes it started, and says so", async () => {
    const slow = script("slow.sh", `sleep 30 & echo $! > "${dir}/sleeper"; wait`);
    const error = (await execProvider({ JIT_EXEC_COMMANDS: slow }).apply(target("acme/access#10", {}, { command: slow, timeout_seconds: 1 })).catch((e: unknown) => e)) as ProviderError;
    expect(error).toMatchObject({ message: "okta: the apply command did not finish within 1 s and was killed", retryable: true });
    const sleeper = Number(read("sleeper"));
    expect(sleeper).toBeGreaterThan(0);
    for (let i = 0; i < 50 && running(sleeper); i++) await new Promise((r) => setTimeout(r, 20));
    expect(running(sleeper)).toBe(false);
  });

  it("runs only commands the server lists, and refuses clearly what cannot run", async () => {
    const notListed = await execProvider({ JIT_EXEC_COMMANDS: "/usr/bin/true" }).apply(target("acme/access#11")).catch((e: unknown) => e);
    expect(notListed).toMatchObject({ message: `okta: ${tool} is not in JIT_EXEC_COMMANDS, the server's list of commands the policy may run`, retryable: false });
    expect(await execProvider({}).apply(target("acme/access#12")).catch((e: unknown) => e)).toBeInstanceOf(ProviderError);
    const missing = path("no-such-tool");
    const notFound = await execProvider({ JIT_EXEC_COMMANDS: missing }).apply(target("acme/access#13", {}, { command: missing })).catch((e: unknown) => e);
    expect(notFound).toMatchObject({ message: "okta: the apply command could not be started (ENOENT)", retryable: false });
    const noGrantKey = await execProvider(env()).apply(target("acme/access#14", {}, { apply_args: ["{{grant.entitlement}}"] })).catch((e: unknown) => e);
    expect(noGrantKey).toMatchObject({ message: "okta: apply_args uses {{grant.entitlement}}, which the role admins does not set", retryable: false });
    const unsetVariable = await execProvider(env()).apply(target("acme/access#15", {}, { env: { TOKEN: "JIT_NOT_SET" } })).catch((e: unknown) => e);
    expect(unsetVariable).toMatchObject({ message: "okta: the environment variable JIT_NOT_SET (env.TOKEN) is not set on the jit-access server" });
  });

  it("drives a Baton-style connector: --grant-entitlement on apply, --revoke-grant on revoke", async () => {
    const baton = script(
      "baton-fake.sh",
      `echo "$*" >> "${dir}/baton"
while [ $# -gt 0 ]; do
  case "$1" in
    --grant-entitlement|--grant-principal|--grant-principal-type|--revoke-grant|--file) shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 1 ;;
  esac
done`,
    );
    rmSync(path("baton"), { force: true });
    const config = {
      command: baton,
      apply_args: ["--file", "/var/lib/jit/okta.c1z", "--grant-entitlement", "{{grant.entitlement}}", "--grant-principal", "{{user}}", "--grant-principal-type", "user"],
      revoke_args: ["--file", "/var/lib/jit/okta.c1z", "--revoke-grant", "{{grant.entitlement}}:user:{{user}}"],
      users: { alice: "00u-alice" },
      held_args: undefined,
    };
    const p = execProvider({ JIT_EXEC_COMMANDS: baton });
    const t = target("acme/access#16", { grant: { entitlement: "group:00g-admins:member" } }, config);
    expect(await p.held(t)).toEqual([]); // no held_args: nothing counts as held before
    await p.apply(t);
    await p.revoke(t, unitsToRevoke(p, t, [], []));
    expect(lines("baton")).toEqual([
      "--file /var/lib/jit/okta.c1z --grant-entitlement group:00g-admins:member --grant-principal 00u-alice --grant-principal-type user",
      "--file /var/lib/jit/okta.c1z --revoke-grant group:00g-admins:member:user:00u-alice",
    ]);
  });
});

describe("the exec provider's policy settings", () => {
  const policy = (config: string, grant = "{}") => `version: 1\nresources:\n  okta:\n    provider: exec\n    config: ${config}\n    roles:\n      admins: { grant: ${grant} }\n`;
  const messages = (config: string, grant?: string) => {
    const loaded = loadPolicy(".github/jit-access.yml", policy(config, grant));
    return loaded.ok ? [] : loaded.diagnostics.map((d) => d.message);
  };

  it("accepts a documented example", () => {
    expect(messages("{ command: /usr/local/bin/jit-okta, apply_args: [add, '{{user}}', '{{grant.group}}'], held_args: [list, '{{user}}'], env: { OKTA_TOKEN: JIT_OKTA_TOKEN } }", "{ group: 00g1 }")).toEqual([]);
  });

  it.each([
    ["a relative command", "{ command: bin/tool }", "okta.config: command must be an absolute path"],
    ["a path with ..", "{ command: /usr/bin/../bin/sh }", "okta.config: command must be an absolute path"],
    ["an unknown placeholder", "{ command: /usr/bin/tool, apply_args: ['{{password}}'] }", "okta.config: apply_args.0 must be an argument, with only these placeholders"],
    ["a server variable not set aside for the policy", "{ command: /usr/bin/tool, env: { KEY: PRIVATE_KEY } }", "okta.config: env.KEY must be the name of an environment variable starting with JIT_"],
    ["a fact's name for a passed variable", "{ command: /usr/bin/tool, env: { JIT_GRANT_ID: JIT_X } }", "okta.config: unknown key \"JIT_GRANT_ID\""],
    ["a timeout over 10 minutes", "{ command: /usr/bin/tool, timeout_seconds: 3600 }", "okta.config: timeout_seconds must be a whole number of seconds from 1 to 600"],
  ])("refuses %s", (_what, config, message) => {
    expect(messages(config)).toContainEqual(expect.stringContaining(message));
  });
});
