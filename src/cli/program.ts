import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { formatDiagnostic } from "../diagnostics.js";
import type { GitHub } from "../github/client.js";
import { auditFromHistory, auditWarnings, enrichFromPullRequests, formatAudit, gitShow, readGitHistory } from "./audit.js";
import { auditPage } from "./audit-page.js";
import { renderAuditHtml } from "./audit-html.js";
import { CliError, EXIT, isGitHubError, optionalGithub, repoFrom, trustedAppFrom, type CliEnv } from "./context.js";
import { extend } from "./extend.js";
import { formatInbox, inbox } from "./inbox.js";
import { defaultBase, formatPlan, planBetween } from "./plan.js";
import { request } from "./request.js";
import { sshCert } from "./ssh-cert.js";
import { revoke } from "./revoke.js";
import { status, type StatusRow } from "./status.js";
import { output, safeJson, type Output, type Style } from "./terminal.js";
import { validateCheckout } from "./validate.js";

export { EXIT } from "./context.js";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  now: () => Date;
  env?: Readonly<Record<string, string | undefined>>;
  /** Tests pass a client; otherwise one is built from GH_TOKEN / GITHUB_TOKEN / `gh auth token` and GITHUB_API_URL. */
  github?: GitHub;
  sleep?: (ms: number) => Promise<void>;
  /** The random part of a grant file's name (tests fix it). */
  randomId?: () => string;
  /** Print stack traces of unexpected errors. */
  debug?: boolean;
  /** Standard output is a terminal (main passes process.stdout.isTTY; tests say so explicitly). */
  isTTY?: boolean;
}

/**
 * The version of the package this module belongs to: src/cli/ and lib/cli/ both sit two levels
 * below package.json, in a checkout and in an installed package alike.
 */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;

/** The trusted app's options, on every command that reads records. */
function withApp(command: Command): Command {
  return command
    .option("--app-id <id>", "trust only the records of the GitHub App with this id (env JIT_APP_ID)")
    .option("--app-slug <slug>", "trust only the records of the GitHub App with this slug (env JIT_APP_SLUG; default jit-access)");
}

const STATUS_STYLE: Record<string, Style> = { LIVE: "green", PENDING: "yellow", SCHEDULED: "yellow", APPLYING: "yellow", REJECTED: "red", UNKNOWN: "red" };

function formatStatus(rows: readonly StatusRow[], out: Output): string {
  if (rows.length === 0) return out.tty ? "no pending or live requests\n" : "";
  return out.table(rows.map((r) => [out.tty ? `#${r.pr}` : String(r.pr), { text: r.status, style: STATUS_STYLE[r.status] }, r.requester, r.access, r.detail]));
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
  const env = io.env ?? {};
  const out = output({ isTTY: io.isTTY, env });
  const ctx = (app?: { appId?: string; appSlug?: string }): CliEnv => ({ env, cwd: io.cwd, ...(io.github ? { github: io.github } : {}), ...(app ? { app } : {}) });
  const line = (text: string) => io.stdout(`${out.text(text)}\n`);
  const program = new Command("jit")
    .description("Just-in-time access requests as pull requests")
    .version(packageVersion(), "-V, --version", "print the version of jit")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError()
    .addHelpText(
      "after",
      `${examples("jit request prod-db --role read-only --duration 2h --reason \"Investigate INC-4211\"", "jit status --mine", "jit audit --since 2026-11-01 --format csv --out audit.csv")}
Environment:
  GH_TOKEN, GITHUB_TOKEN   the token, in this order; else \`gh auth token\`
  GITHUB_API_URL           GitHub Enterprise Server: https://HOST/api/v3
  JIT_APP_ID, JIT_APP_SLUG the GitHub App whose records are trusted (default slug jit-access)
  NO_COLOR                 no colour, even on a terminal
  FORCE_COLOR              colour in a pipe too (NO_COLOR wins)

Output: aligned columns and colour on a terminal; in a pipe, tab-separated columns with no
padding and no colour. Text from grant files and pull requests is shown with control
characters escaped (as \\u001b), never passed to the terminal.

Exit codes: 0 ok, 1 a check failed, 2 usage, 3 GitHub error, 4 auth needed,\n  70 internal error: a bug in jit, never GitHub's (--debug prints the stack).
  jit plan exits 3 when the change widens access (so CI can ask for more review).
`,
    );

  program
    .command("validate")
    .description("check the policy, CODEOWNERS mapping and grant files of a local checkout, offline")
    .argument("[paths...]", "grant files to check (default: every file under grants/)")
    .option("-C, --root <dir>", "the access repository's root", io.cwd)
    .option("--json", "print a JSON report instead of file:line:col lines")
    .action((paths: string[], options: { root: string; json?: boolean }) => {
      const report = validateCheckout(options.root, paths, io.now(), io.cwd);
      if (options.json) {
        io.stdout(safeJson({ ok: report.errors.length === 0, ...report }));
      } else {
        for (const d of report.errors) line(formatDiagnostic(d));
        for (const d of report.warnings) line(`${d.path}:${d.line}:${d.column}: warning: ${d.message}`);
        io.stderr(`${report.errors.length === 0 ? "ok" : `${report.errors.length} error(s)`}: checked the policy and ${report.checkedGrants} grant file(s)\n`);
      }
      code = report.errors.length === 0 ? EXIT.ok : EXIT.invalid;
    })
    .addHelpText("after", examples("jit validate", "jit validate grants/prod-db/alice-20261129-130000-a1b2.yaml --json"));

  program
    .command("plan")
    .description("what a policy or CODEOWNERS change does to access, between two refs of a local checkout, offline")
    .option("--base <ref>", "the ref to compare against (default: origin's default branch, else main)")
    .option("--head <ref>", "the ref with the change", "HEAD")
    .option("-C, --root <dir>", "the access repository's checkout", io.cwd)
    .option("--json", "print the plan as JSON")
    .action(async (options: { base?: string; head: string; root: string; json?: boolean }) => {
      const local = await planBetween(options.root, options.base ?? (await defaultBase(options.root)), options.head);
      io.stdout(options.json ? safeJson(local) : formatPlan(local, out));
      code = local.widens ? EXIT.widens : EXIT.ok;
    })
    .addHelpText("after", `${examples("jit plan", "jit plan --base origin/main --json")}
Exit code 3 when the change widens access (CI can then ask for another reviewer).
`);

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
      for (const text of await request(resource, options, ctx(), io.now(), io.randomId)) line(text);
    })
    .addHelpText("after", examples("jit request prod-db --role read-only --duration 2h --reason \"Investigate INC-4211\" --ticket INC-4211", "jit request prod-admins --role member --duration 1h --reason \"Failover\" --start 2026-11-29T14:00:00Z"));

  withApp(program.command("status"))
    .description("pending and live requests, with the approvals they miss and the time they have left")
    .option("--mine", "only your requests")
    .option("--json", "print JSON")
    .option("--repo <owner/name>", "the access repository (default: this checkout's origin)")
    .action(async (options: { mine?: boolean; json?: boolean; repo?: string; appId?: string; appSlug?: string }) => {
      const rows = await status(ctx(options), options, io.now());
      io.stdout(options.json ? safeJson(rows) : formatStatus(rows, out));
    })
    .addHelpText("after", examples("jit status", "jit status --mine --repo acme/access", "jit status --json | jq '.[] | select(.status == \"LIVE\")'"));

  withApp(program.command("inbox"))
    .description("open requests that wait for your approval, with the groups each still needs, oldest first")
    .option("--json", "print JSON")
    .option("--repo <owner/name>", "the access repository (default: this checkout's origin)")
    .action(async (options: { json?: boolean; repo?: string; appId?: string; appSlug?: string }) => {
      const rows = await inbox(ctx(options), options, io.now());
      io.stdout(options.json ? safeJson(rows) : formatInbox(rows, out));
    })
    .addHelpText("after", examples("jit inbox", "jit inbox --json"));

  withApp(program.command("extend"))
    .description("continue a live grant: a new request for the same access, starting when it ends, judged like any request")
    .argument("<pr>", "the live grant's request pull request")
    .requiredOption("--by <duration>", "how much longer, e.g. 30m, 1h")
    .requiredOption("--reason <text>", "why you need more time")
    .option("--ticket <id>", "a ticket or incident reference (default: the original's)")
    .option("--repo <owner/name>", "the access repository (default: this checkout's origin)")
    .action(async (pr: string, options: { by: string; reason: string; ticket?: string; repo?: string; appId?: string; appSlug?: string }) => {
      const number = prNumber(pr);
      if (!options.reason.trim()) throw new CliError("--reason must say why you need more time", EXIT.usage);
      for (const text of await extend(ctx(options), number, options, io.now(), io.randomId)) line(text);
    })
    .addHelpText("after", examples("jit extend 7 --by 1h --reason \"Migration still running\""));

  withApp(program.command("revoke"))
    .description("end a live grant early (/jit revoke on its pull request) and wait for the outcome")
    .argument("<pr>", "the request pull request's number")
    .option("--reason <text>", "why")
    .option("--timeout <seconds>", "how long to wait for jit-access", "60")
    .option("--repo <owner/name>", "the access repository (default: this checkout's origin)")
    .action(async (pr: string, options: { reason?: string; timeout: string; repo?: string; appId?: string; appSlug?: string }) => {
      const number = prNumber(pr);
      const timeout = Number(options.timeout);
      if (!/^\d+$/.test(options.timeout) || !Number.isSafeInteger(timeout)) throw new CliError(`--timeout must be a number of seconds, not ${options.timeout}`, EXIT.usage);
      const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
      line(await revoke(ctx(options), number, { ...options, timeout }, sleep));
    })
    .addHelpText("after", examples("jit revoke 7 --reason \"done early\"", "jit revoke 7 --timeout 120"));

  withApp(program.command("ssh-cert"))
    .description("the SSH certificate jit-access handed over on an ssh grant's pull request (public: no secret is read or written)")
    .argument("<pr>", "the request pull request's number")
    .option("--key <file>", "your public key file: print only its certificate (e.g. ~/.ssh/id_ed25519.pub)")
    .option("--out <file>", "write the certificate to this file (e.g. ~/.ssh/id_ed25519-cert.pub) instead of standard output")
    .option("--repo <owner/name>", "the access repository (default: this checkout's origin)")
    .action(async (pr: string, options: { key?: string; out?: string; repo?: string; appId?: string; appSlug?: string }) => {
      const number = prNumber(pr);
      let publicKey: string | undefined;
      if (options.key !== undefined) {
        try {
          publicKey = readFileSync(resolve(io.cwd, options.key), "utf8");
        } catch (error) {
          throw new CliError(`cannot read ${options.key}: ${(error as Error).message.split("\n")[0]}`, EXIT.usage);
        }
      }
      const certs = await sshCert(ctx(options), number, { ...(options.repo ? { repo: options.repo } : {}), ...(publicKey !== undefined ? { publicKey } : {}) });
      if (options.out !== undefined && certs.length > 1) throw new CliError(`#${number} has ${certs.length} certificates (one per key): pass --key to choose one for --out`, EXIT.usage);
      const text = certs.map((c) => `${c.line}\n`).join("");
      if (options.out === undefined) io.stdout(text);
      else {
        try {
          writeFileSync(resolve(io.cwd, options.out), text, { mode: 0o644 });
        } catch (error) {
          throw new CliError(`cannot write ${options.out}: ${(error as Error).message.split("\n")[0]}`, EXIT.usage);
        }
      }
      const now = io.now().getTime();
      for (const c of certs) {
        const when = now >= Date.parse(c.validBefore) ? "EXPIRED" : now < Date.parse(c.validAfter) ? "not yet valid" : "valid";
        io.stderr(`${out.text(`${c.keyFingerprint}: ${when}, for ${c.principals.join(", ")}, from ${c.validAfter} until ${c.validBefore} (serial ${c.serial})`)}\n`);
      }
    })
    .addHelpText("after", examples("jit ssh-cert 7 --key ~/.ssh/id_ed25519.pub --out ~/.ssh/id_ed25519-cert.pub", "ssh -i ~/.ssh/id_ed25519 ops@bastion.example.org"));

  withApp(program.command("audit"))
    .description("every grant's life from git history (a local clone; a token adds windows and rejected requests)")
    .option("--since <date>", "only grants merged on or after this date (YYYY-MM-DD or RFC 3339)")
    .addOption(new Option("--format <format>", "output format (html: one self-contained page with a timeline)").choices(["table", "json", "csv", "html"]).default("table"))
    .option("--out <file>", "write the report to this file instead of standard output")
    .option("-C, --root <dir>", "the clone to read", io.cwd)
    .option("--repo <owner/name>", "with a token: the repository whose pull requests enrich the history")
    .action(async (options: { since?: string; format: "table" | "json" | "csv" | "html"; out?: string; root: string; repo?: string; appId?: string; appSlug?: string }) => {
      const since = options.since ? Date.parse(options.since) : undefined;
      if (since !== undefined && Number.isNaN(since)) throw new CliError(`--since must be a date, not ${options.since}`, EXIT.usage);
      let history;
      try {
        history = readGitHistory(options.root);
      } catch {
        throw new CliError(`${options.root} is not a git clone of an access repository`, EXIT.usage);
      }
      const app = trustedAppFrom(ctx(options));
      let lives = auditFromHistory(history, gitShow(options.root));
      // Without a token the report is git history alone: shown, but nothing in it is verified.
      const gh = optionalGithub(ctx());
      if (gh) lives = await enrichFromPullRequests(gh, repoFrom({ ...ctx(), cwd: options.root }, options.repo), lives, app);
      if (since !== undefined) lives = lives.filter((l) => Date.parse(l.merged ?? l.ended ?? "") >= since);
      const report = options.format === "html" ? renderAuditHtml(lives, auditPage(ctx(), options.root, options.repo, io.now())) : formatAudit(lives, options.format, out);
      // On a terminal a CSV or HTML report is escaped like everything else; a file or a pipe gets it as is.
      if (options.out === undefined) {
        io.stdout(out.tty && options.format !== "table" ? out.text(report) : report);
      } else {
        const file = resolve(io.cwd, options.out);
        try {
          writeFileSync(file, report);
        } catch (error) {
          throw new CliError(`cannot write ${options.out}: ${(error as Error).message.split("\n")[0]}`, EXIT.usage);
        }
        io.stderr(`wrote ${out.text(options.out)}: ${lives.length} grant(s)\n`);
      }
      // After the report, so the last thing on a terminal is what it cannot vouch for.
      for (const warning of auditWarnings(lives, !gh)) io.stderr(`jit: ${out.text(warning)}\n`);
    })
    .addHelpText("after", examples("jit audit", "jit audit --since 2026-11-01 --format csv --out audit.csv", "jit audit --format html --out audit.html --repo acme/access"));

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage; // --help and --version end here too
    if (error instanceof CliError) {
      io.stderr(`jit: ${out.text(error.message)}\n`);
      return error.exitCode;
    }
    // GitHub's own errors that no command wrapped are still GitHub's: exit 3 with its message.
    if (isGitHubError(error)) {
      io.stderr(`jit: GitHub error${error.status ? ` (HTTP ${error.status})` : ""}: ${out.text(error.message.split("\n")[0] ?? "")}\n`);
      return EXIT.github;
    }
    // Anything else is a bug in jit: said so (exit 70), not blamed on GitHub; the stack with --debug.
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(io.debug && error instanceof Error ? `jit: internal error: ${out.text(error.stack ?? message)}\n` : `jit: internal error: ${out.text(message)}\n(run again with --debug for the stack trace)\n`);
    return EXIT.internal;
  }
  return code;
}
