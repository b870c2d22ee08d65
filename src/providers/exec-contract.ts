import type { GrantTarget } from "./types.js";

/**
 * The `exec` provider's contract with the command it runs, as plain data (pure): the facts of a
 * grant, how they fill argv templates and the environment, and what an exit code means. The
 * contract is documented in docs/providers/exec.md; change both together.
 */

export type ExecAction = "apply" | "revoke" | "held";

/** Placeholders an argv template may use, besides `{{grant.<key>}}`. */
export const PLACEHOLDERS = ["grant_id", "requester", "requester_id", "user", "resource", "role", "starts_at", "expires_at", "pull_request", "unit"] as const;

/** The environment variables that carry the grant's facts; a configured variable may not take their names. */
export const FACT_VARIABLES = ["JIT_ACTION", "JIT_GRANT_ID", "JIT_REQUESTER", "JIT_REQUESTER_ID", "JIT_USER", "JIT_RESOURCE", "JIT_ROLE", "JIT_STARTS_AT", "JIT_EXPIRES_AT", "JIT_PULL_REQUEST", "JIT_UNIT", "JIT_GRANT"] as const;

/** Exit 75 (EX_TEMPFAIL of sysexits.h): a temporary failure, tried again. Any other non-zero exit is permanent. */
export const EXIT_TEMPORARY = 75;

/** What the child finds on PATH: the system's directories, never the app's own PATH. */
export const CHILD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** An argv item: text with only known `{{placeholders}}` (checked by the policy schema). */
export const ARGV_ITEM_PATTERN = `^(?:[^{\\u0000]|\\{(?!\\{)|\\{\\{(?:${PLACEHOLDERS.join("|")}|grant\\.[A-Za-z0-9_]{1,64})\\}\\})*$`;

/** The target's name for the requester: `config.users` maps GitHub logins (case-insensitively), else the login itself. */
export function userOf(t: GrantTarget): string {
  const users = (t.config.users ?? {}) as Record<string, string>;
  return Object.entries(users).find(([k]) => k.toLowerCase() === t.requester.toLowerCase())?.[1] ?? t.requester;
}

/** The one unit an exec grant gives: this role of this resource, for this user (reference counted by the app). */
export function execUnit(t: GrantTarget): string {
  return `exec:${t.resource}:${t.role}:${userOf(t)}`;
}

function facts(t: GrantTarget): Record<(typeof PLACEHOLDERS)[number], string> {
  return {
    grant_id: t.id,
    requester: t.requester,
    requester_id: t.requesterId === undefined ? "" : String(t.requesterId),
    user: userOf(t),
    resource: t.resource,
    role: t.role,
    starts_at: t.startsAt,
    expires_at: t.expiresAt,
    pull_request: t.pullRequest,
    unit: execUnit(t),
  };
}

/**
 * The argv after the command: each template item with its placeholders filled in, one item each
 * (no shell ever splits or interprets them). A `{{grant.<key>}}` the role's grant does not set is
 * an error naming it, not an empty string.
 */
export function expandArgv(templates: readonly string[], t: GrantTarget): { argv: string[] } | { missing: string } {
  const known: Record<string, string> = facts(t);
  const argv: string[] = [];
  for (const template of templates) {
    let missing: string | undefined;
    const item = template.replace(/\{\{([A-Za-z0-9_.]+)\}\}/g, (whole, name: string) => {
      if (name.startsWith("grant.")) {
        const value = Object.hasOwn(t.grant, name.slice(6)) ? t.grant[name.slice(6)] : undefined;
        if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
        missing ??= name;
        return whole;
      }
      if (Object.hasOwn(known, name)) return known[name]!;
      missing ??= name;
      return whole;
    });
    if (missing) return { missing };
    argv.push(item);
  }
  return { argv };
}

/**
 * The child's whole environment: PATH, the variables `config.env` passes on (child name → the
 * server's JIT_ variable), then the grant's facts. Nothing else of the app's environment: its
 * private key and webhook secret never reach the command.
 */
export function childEnv(action: ExecAction, t: GrantTarget, passed: Readonly<Record<string, string>>): Record<string, string> {
  const f = facts(t);
  return {
    PATH: CHILD_PATH,
    ...passed,
    JIT_ACTION: action,
    JIT_GRANT_ID: f.grant_id,
    JIT_REQUESTER: f.requester,
    JIT_REQUESTER_ID: f.requester_id,
    JIT_USER: f.user,
    JIT_RESOURCE: f.resource,
    JIT_ROLE: f.role,
    JIT_STARTS_AT: f.starts_at,
    JIT_EXPIRES_AT: f.expires_at,
    JIT_PULL_REQUEST: f.pull_request,
    JIT_UNIT: f.unit,
    JIT_GRANT: JSON.stringify(t.grant),
  };
}

/** How a run ended. */
export type Outcome = { exit: number } | { signal: string } | { timedOut: true } | { notStarted: string };

/** Whether an outcome is success, a temporary failure (retried) or a permanent one, and the words for it. */
export function judge(outcome: Outcome, action: ExecAction, timeoutSeconds: number): { ok: true } | { ok: false; retryable: boolean; words: string } {
  if ("exit" in outcome) {
    if (outcome.exit === 0) return { ok: true };
    if (outcome.exit === EXIT_TEMPORARY) return { ok: false, retryable: true, words: `the ${action} command failed temporarily (exit ${EXIT_TEMPORARY}); jit-access tries again` };
    return { ok: false, retryable: false, words: `the ${action} command failed (exit ${outcome.exit})` };
  }
  if ("timedOut" in outcome) return { ok: false, retryable: true, words: `the ${action} command did not finish within ${timeoutSeconds} s and was killed` };
  if ("signal" in outcome) return { ok: false, retryable: false, words: `the ${action} command was ended by ${outcome.signal}` };
  return { ok: false, retryable: false, words: `the ${action} command could not be started (${outcome.notStarted})` };
}

/**
 * The last non-empty line of the command's output, for a PR: control characters removed, at most
 * `limit` characters. Secrets are removed by the caller, which knows them.
 */
export function lastLine(output: string, limit = 300): string {
  const lines = output.split(/\r?\n/).map((l) => l.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ").trim()).filter(Boolean);
  const line = lines.at(-1) ?? "";
  return line.length > limit ? `${line.slice(0, limit)}…` : line;
}

/** The unit keys `held` printed (one per line) that this grant gives; anything else it printed is ignored. */
export function heldUnits(stdout: string, t: GrantTarget): string[] {
  const printed = new Set(stdout.split(/\r?\n/).map((l) => l.trim()));
  return printed.has(execUnit(t)) ? [execUnit(t)] : [];
}
