#!/usr/bin/env node
import { runCli, EXIT } from "./program.js";

const debug = process.argv.includes("--debug");
const argv = process.argv.slice(2).filter((a) => a !== "--debug");

runCli(argv, {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  cwd: process.cwd(),
  now: () => new Date(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // One clear line; the stack only when asked for.
    process.stderr.write(`jit: ${debug && error instanceof Error ? error.stack : (error as Error).message}\n`);
    process.exitCode = EXIT.github;
  },
);
