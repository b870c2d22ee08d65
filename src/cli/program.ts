import { Command, CommanderError } from "commander";
import { formatDiagnostic } from "../diagnostics.js";
import { validateCheckout } from "./validate.js";

/** Exit codes, a public contract of the CLI. */
export const EXIT = { ok: 0, invalid: 1, usage: 2, github: 3 } as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  now: () => Date;
}

/** Runs `jit` with the given arguments; returns the exit code instead of exiting, so tests can drive it. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
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

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw error;
  }
  return code;
}
