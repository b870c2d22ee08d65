#!/usr/bin/env node
import { runCli } from "./program.js";

const debug = process.argv.includes("--debug");
const argv = process.argv.slice(2).filter((a) => a !== "--debug");

process.exitCode = await runCli(argv, {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  cwd: process.cwd(),
  now: () => new Date(),
  env: process.env,
  debug,
  isTTY: process.stdout.isTTY === true,
});
