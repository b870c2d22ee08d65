import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { formatDiagnostic } from "../diagnostics.js";
import type { GitHub } from "../github/client.js";
import { auditFromHistory, enrichFromPullRequests, formatAudit, gitShow, readGitHistory } from "./audit.js";
import { auditPage } from "./audit-page.js";
import { renderAuditHtml } from "./audit-html.js";
import { CliError, githubFrom, repoFrom, type CliEnv } from "./context.js";
import { extend } from "./extend.js";
import { formatInbox, inbox } from "./inbox.js";
import { request } from "./request.js";
import { revoke } from "./revoke.js";
import { status } from "./status.js";
import { validateCheckout } from "./validate.js";

/** Exit codes, a public contract of the CLI. */
export const EXIT = { ok: 0, invalid: 1, usage: 2, github: 3 } as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  now: () => Date;
  env?: Readonly<Record<string, string | undefined>>;
  /** Tests pass a client; otherwise one is built from GITHUB_TOKEN / GH_TOKEN and GITHUB_API_URL. */
  github?: GitHub;
  sleep?: (ms: number) => Promise<void>;
  /** The random part of a grant file's name (tests fix it). */
  randomId?: () => string;
  /** Print stack traces of unexpected errors. */
  debug?: boolean;
}

/** `7` or `#7`; anything else is a usage error. */
function prNumber(text: string): number {
  const number = Number(text.replace(/^#/, ""));
  if (!/^#?\d+$/.test(text) || !Number.isSafeInteger(number) || number <= 0) throw new CliError(`<pr> must be a pull request number, not ${text}`, EXIT.usage);
  return number;
}

/** Runs `jit` with the given arguments; returns the exit code instead of exiting, so tests can drive it. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const ctx = (): CliEnv => ({ env: io.env ?? {}, cwd: io.cwd, ...(io.github ? { github: io.github } : {}) });
  const program = new Command("jit")
    .description("Just-in-time access requests as pull requests")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  program
    .command("validate")
    .description("check the policy, CODEOWNERS mapping and grant files of a local checkout, offline")
    .argument("[paths...]", "grant files to check (default: every file under grants/)")
    .option("-C, --root <dir>", "the access repository's root", io.cwd)
    .option("--json", "print a JSON report instead of file:line:col lines")
    .action((paths: string[], options: { root: string; json?: boolean }) => {
      const report = validateCheckout(options.root, paths, io.now(), io.cwd);
      if (options.json) {
        io.stdout(`${JSON.stringify({ ok: report.errors.length === 0, ...report }, null, 2)}\n`);
      } else {
        for (const d of report.errors) io.stdout(`${formatDiagnostic(d)}\n`);
        for (const d of report.warnings) io.stdout(`${d.path}:${d.line}:${d.column}: warning: ${d.message}\n`);
        io.stderr(`${report.errors.length === 0 ? "ok" : `${report.errors.length} error(s)`}: checked the policy and ${report.checkedGrants} grant file(s)\n`);
      }
      code = report.errors.length === 0 ? EXIT.ok : EXIT.invalid;
    });

  program
    .command("request")
    .description("request time-boxed access: validates locally, then opens the request pull request")
    .argument("<resource>", "a resource of the policy")
    .requiredOption("--role <role>", "a role of that resource")
    .requiredOption("--duration <duration>", "how long, e.g. 30m, 2h, 1h30m")
    .requiredOption("--reason <text>", "why you need it")
    .option("--ticket <id>", "a ticket or incident reference")
    .option("--start <time>", "a scheduled start (RFC 3339, e.g. 2026-11-29T14:00:00Z)")
    .option("--emergency", "break-glass: one approval from break_glass.approvers")
    .option("--repo <owner/name>", "the access repository (default: this checkout's origin)")
    .action(async (resource: string, options) => {
      for (const line of await request(resource, options, ctx(), io.now(), io.randomId)) io.stdout(`${line}\n`);
    });

  program
    .command("status")
    .description("pending and live requests, with the approvals they miss and the time they have left")
    .option("--mine", "only your requests")
    .option("--json", "print JSON")
    .option("--repo <owner/name>", "the access repository (default: this checkout's origin)")
    .action(async (options: { mine?: boolean; json?: boolean; repo?: string }) => {
      const rows = await status(ctx(), options, io.now());
      if (options.json) return io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      if (rows.length === 0) return io.stdout("no pending or live requests\n");
      for (const r of rows) io.stdout(`#${r.pr}  ${r.status.padEnd(9)}  ${r.requester}  ${r.access}${r.detail ? `  — ${r.detail}` : ""}\n`);
    });

  program
    .command("inbox")
    .description("open requests that wait for your approval, with the groups each still needs, oldest first")
    .option("--json", "print JSON")
    .option("--repo <owner/name>", "the access repository (default: this checkout's origin)")
    .action(async (options: { json?: boolean; repo?: string }) => {
      const rows = await inbox(ctx(), options, io.now());
      io.stdout(options.json ? `${JSON.stringify(rows, null, 2)}\n` : formatInbox(rows));
    });

  program
    .command("extend")
    .description("continue a live grant: a new request for the same access, starting when it ends, judged like any request")
    .argument("<pr>", "the live grant's request pull request")
    .requiredOption("--by <duration>", "how much longer, e.g. 30m, 1h")
    .requiredOption("--reason <text>", "why you need more time")
    .option("--ticket <id>", "a ticket or incident reference (default: the original's)")
    .option("--repo <owner/name>", "the access repository (default: this checkout's origin)")
    .action(async (pr: string, options: { by: string; reason: string; ticket?: string; repo?: string }) => {
      const number = prNumber(pr);
      if (!options.reason.trim()) throw new CliError("--reason must say why you need more time", EXIT.usage);
      for (const line of await extend(ctx(), number, options, io.now(), io.randomId)) io.stdout(`${line}\n`);
    });

  program
    .command("revoke")
    .description("end a live grant early (/jit revoke on its pull request) and wait for the outcome")
    .argument("<pr>", "the request pull request's number")
    .option("--reason <text>", "why")
    .option("--timeout <seconds>", "how long to wait for jit-access", "60")
    .option("--repo <owner/name>", "the access repository (default: this checkout's origin)")
    .action(async (pr: string, options: { reason?: string; timeout: string; repo?: string }) => {
      const number = prNumber(pr);
      const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
      io.stdout(`${await revoke(ctx(), number, { ...options, timeout: Number(options.timeout) }, sleep)}\n`);
    });

  program
    .command("audit")
    .description("every grant's life from git history (a local clone; a token adds windows and rejected requests)")
    .option("--since <date>", "only grants merged on or after this date (YYYY-MM-DD or RFC 3339)")
    .addOption(new Option("--format <format>", "output format (html: one self-contained page with a timeline)").choices(["table", "json", "csv", "html"]).default("table"))
    .option("--out <file>", "write the report to this file instead of standard output")
    .option("-C, --root <dir>", "the clone to read", io.cwd)
    .option("--repo <owner/name>", "with a token: the repository whose pull requests enrich the history")
    .action(async (options: { since?: string; format: "table" | "json" | "csv" | "html"; out?: string; root: string; repo?: string }) => {
      const since = options.since ? Date.parse(options.since) : undefined;
      if (since !== undefined && Number.isNaN(since)) throw new CliError(`--since must be a date, not ${options.since}`, EXIT.usage);
      let history;
      try {
        history = readGitHistory(options.root);
      } catch {
        throw new CliError(`${options.root} is not a git clone of an access repository`, EXIT.usage);
      }
      let lives = auditFromHistory(history, gitShow(options.root));
      const env = ctx().env;
      if (io.github || env.GITHUB_TOKEN || env.GH_TOKEN) {
        lives = await enrichFromPullRequests(githubFrom(ctx()), repoFrom({ ...ctx(), cwd: options.root }, options.repo), lives);
      }
      if (since !== undefined) lives = lives.filter((l) => Date.parse(l.merged ?? l.ended ?? "") >= since);
      const report = options.format === "html" ? renderAuditHtml(lives, auditPage(ctx(), options.root, options.repo, io.now())) : formatAudit(lives, options.format);
      if (options.out === undefined) return io.stdout(report);
      const out = resolve(io.cwd, options.out);
      try {
        writeFileSync(out, report);
      } catch (error) {
        throw new CliError(`cannot write ${options.out}: ${(error as Error).message.split("\n")[0]}`, EXIT.usage);
      }
      io.stderr(`wrote ${options.out}: ${lives.length} grant(s)\n`);
    });

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage; // --help and --version end here too
    if (error instanceof CliError) {
      io.stderr(`jit: ${error.message}\n`);
      return error.exitCode;
    }
    // Anything else is unexpected: one line, the stack only with --debug.
    io.stderr(`jit: ${io.debug && error instanceof Error ? error.stack : (error as Error).message}\n`);
    return EXIT.github;
  }
  return code;
}
