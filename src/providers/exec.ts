import { Type } from "@sinclair/typebox";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { EnvName, Login } from "../schemas/common.js";
import { ARGV_ITEM_PATTERN, childEnv, execUnit, expandArgv, FACT_VARIABLES, heldUnits, judge, lastLine, userOf, type ExecAction, type Outcome } from "./exec-contract.js";
import { endpointSecrets, envValue, ProviderError, redact, shownSafe, type Env, type GrantTarget, type Provider, type ProviderDefinition } from "./types.js";

/**
 * The server's list of commands the policy may name (comma-separated absolute paths). Whoever can
 * change the policy must not be able to run any program on the server (a shell would read the
 * app's private key from its parent's environment): the operator installs and lists the commands.
 */
export const EXEC_COMMANDS_VARIABLE = "JIT_EXEC_COMMANDS";

/** Output kept per stream: enough for `held` and an error line, never the memory of an endless stream. */
export const MAX_OUTPUT_BYTES = 64 * 1024;

const Argv = (what: string) =>
  Type.Array(Type.String({ maxLength: 4096, pattern: ARGV_ITEM_PATTERN, description: `an argument, with only these placeholders: {{grant_id}}, {{requester}}, {{requester_id}}, {{user}}, {{resource}}, {{role}}, {{starts_at}}, {{expires_at}}, {{pull_request}}, {{unit}}, {{grant.<key>}}` }), {
    maxItems: 64,
    description: `the arguments ${what}`,
  });

/** The provider as the table lists it. */
export const exec = {
  name: "exec" as const,
  description: "a command of your own, run with the grant's facts (Baton connectors too)",
  docs: {
    changes: "whatever the configured command does when run with its apply arguments; revoking runs it with its revoke arguments",
    expiresAtTarget: "whatever the command arranges at the target (nothing, unless it sets an expiry there)",
    verifiedAgainst: { kind: "local scripts", how: "local shell scripts run by the tests: arguments, environment, exit codes, timeouts" },
    page: "providers/exec.md",
  },
  config: Type.Object(
    {
      command: Type.String({
        // Absolute and normalised (no ".", ".." or empty segments): compared as text with the server's list.
        pattern: "^(?!.*/\\.{1,2}(?:/|$))/(?:[A-Za-z0-9._+-]+/)*[A-Za-z0-9._+-]+$",
        maxLength: 1024,
        description: `an absolute path to the program (no shell), listed by the server in ${EXEC_COMMANDS_VARIABLE}`,
      }),
      apply_args: Type.Optional(Argv('for apply (default: ["apply"])')),
      revoke_args: Type.Optional(Argv('for revoke (default: ["revoke"])')),
      held_args: Type.Optional(Argv("for held; without them nothing counts as held before a grant")),
      timeout_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 600, description: "a whole number of seconds from 1 to 600 (default 30)" })),
      env: Type.Optional(
        Type.Record(Type.String({ pattern: `^(?!(?:${FACT_VARIABLES.join("|")})$)[A-Za-z_][A-Za-z0-9_]{0,100}$` }), EnvName, {
          description: "a mapping of the command's variable names (not the JIT_ names of the grant's facts) to the server's JIT_ variables whose values they get",
          additionalProperties: false,
        }),
      ),
      users: Type.Optional(Type.Record(Login, Type.String({ minLength: 1, maxLength: 256 }), { description: "a mapping of GitHub logins to the target's user names ({{user}})", additionalProperties: false })),
    },
    { additionalProperties: false },
  ),
  grant: Type.Record(Type.String({ pattern: "^[A-Za-z0-9_]{1,64}$" }), Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()]), {
    description: "settings for the command ({{grant.<key>}} in its arguments, JSON in JIT_GRANT): text, numbers or true/false",
  }),
  create: ({ env }) => execProvider(env),
} satisfies ProviderDefinition;

const DEFAULT_ARGS: Readonly<Record<ExecAction, readonly string[] | undefined>> = { apply: ["apply"], revoke: ["revoke"], held: undefined };

/**
 * `exec`: runs `config.command` for apply, revoke and held, never through a shell, with the
 * grant's facts in argv templates and `JIT_*` variables, and only the variables `config.env` names
 * besides. Exit 0 is success, 75 a temporary failure, anything else a permanent one; a run past
 * `timeout_seconds` is killed with its whole process group. The command must be idempotent as a
 * webhook receiver is: the same grant id applied (or revoked) twice leaves the same state. The
 * app counts references by the unit `exec:<resource>:<role>:<user>`, so a revoke runs only when no
 * other live grant gives the same role and the role was not held before (`held_args`).
 */
export function execProvider(env: Env): Provider {
  async function run(t: GrantTarget, action: ExecAction): Promise<string> {
    const command = String(t.config.command);
    const allowed = (envValue(env, EXEC_COMMANDS_VARIABLE) ?? "").split(",").map((s) => s.trim());
    if (!allowed.includes(command)) {
      throw new ProviderError(`${t.resource}: ${command} is not in ${EXEC_COMMANDS_VARIABLE}, the server's list of commands the policy may run`, false);
    }
    const templates = (t.config[`${action}_args`] as string[] | undefined) ?? DEFAULT_ARGS[action] ?? [];
    const expanded = expandArgv(templates, t);
    if ("missing" in expanded) throw new ProviderError(`${t.resource}: ${action}_args uses {{${expanded.missing}}}, which the role ${t.role} does not set`, false);
    const passed: Record<string, string> = {};
    for (const [name, from] of Object.entries((t.config.env ?? {}) as Record<string, string>)) {
      const value = envValue(env, from);
      if (value === undefined) throw new ProviderError(`${t.resource}: the environment variable ${from} (env.${name}) is not set on the jit-access server`, false);
      passed[name] = value;
    }
    const timeoutSeconds = typeof t.config.timeout_seconds === "number" ? t.config.timeout_seconds : 30;
    const { outcome, stdout, stderr } = await runCommand(command, expanded.argv, childEnv(action, t, passed), timeoutSeconds * 1000);
    const verdict = judge(outcome, action, timeoutSeconds);
    if (verdict.ok) return stdout;
    // The command's own last words help most, but they may echo what it was given: the passed
    // values (and, for URLs, their parts) are removed, and only one short line reaches the PR.
    const secrets = Object.values(passed);
    const said = shownSafe(lastLine(stderr || stdout), endpointSecrets(secrets));
    const detail = redact(`${t.resource}: ${verdict.words}; stderr: ${stderr.slice(-2000)}`, secrets);
    throw new ProviderError(`${t.resource}: ${verdict.words}${said ? `: ${said}` : ""}`, verdict.retryable, detail);
  }

  return {
    units: (t) => [execUnit(t)],
    async held(t) {
      if (!Array.isArray(t.config.held_args)) return [];
      return heldUnits(await run(t, "held"), t);
    },
    async apply(t) {
      await run(t, "apply");
    },
    async revoke(t, units) {
      if (units.includes(execUnit(t))) await run(t, "revoke");
    },
    describe: (t) => `${String(t.config.command)} for ${userOf(t)} (${t.resource}, role ${t.role})`,
  };
}

/**
 * Runs a program (no shell) with exactly this environment, in its own process group, and waits
 * for it; past the timeout the whole group is killed (a script's children too). Output beyond
 * MAX_OUTPUT_BYTES per stream is read and dropped.
 */
export function runCommand(command: string, argv: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<{ outcome: Outcome; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const out = { stdout: "", stderr: "" };
    let child;
    try {
      child = spawn(command, argv, { env, cwd: tmpdir(), stdio: ["ignore", "pipe", "pipe"], detached: true, shell: false });
    } catch (error) {
      resolve({ outcome: { notStarted: errorCode(error) }, ...out });
      return;
    }
    const keep = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      if (out[stream].length < MAX_OUTPUT_BYTES) out[stream] += chunk.toString("utf8").slice(0, MAX_OUTPUT_BYTES - out[stream].length);
    };
    child.stdout.on("data", keep("stdout"));
    child.stderr.on("data", keep("stderr"));
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ outcome: timedOut ? { timedOut: true } : outcome, ...out });
    };
    child.once("error", (error) => finish({ notStarted: errorCode(error) }));
    // "close" waits for the output pipes: a background child still holding them keeps the run
    // going until the timeout kills the group, so nothing the command started outlives it.
    child.once("close", (code, signal) => finish(code === null ? { signal: signal ?? "a signal" } : { exit: code }));
  });
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : "error";
}
