import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Diagnostic } from "../diagnostics.js";
import { parseCodeowners, type Codeowners } from "../policy/codeowners.js";
import { loadPolicy, type LoadedPolicy } from "../policy/load.js";
import { CODEOWNERS_PATHS, MAX_CODEOWNERS_BYTES, MAX_POLICY_BYTES, POLICY_PATH } from "../policy/paths.js";
import { plan, widens } from "../plan/plan.js";
import type { AccessPlan, Effect } from "../plan/types.js";
import { EFFECT_ICON, peopleText, planGroups, planSummary } from "../present/plan.js";
import { CliError, EXIT } from "./context.js";
import type { Output, Style } from "./terminal.js";

const run = promisify(execFile);

/** `jit plan`: the access plan between two refs of a local checkout, read with `git show` (no shell, no network). */
export interface LocalPlan {
  base: string;
  head: string;
  plan: AccessPlan;
  summary: string;
  widens: boolean;
  /** Why the base's policy is not compared (missing or invalid): every role then counts as new. */
  baseProblems: Diagnostic[];
}

export async function planBetween(root: string, base: string, head: string): Promise<LocalPlan> {
  for (const ref of [base, head]) await resolveRef(root, ref);
  const headPolicy = await policyAt(root, head);
  if (headPolicy === null) throw new CliError(`${head} has no ${POLICY_PATH}: not an access repository`, EXIT.usage);
  if (!headPolicy.ok) throw new CliError(`the policy at ${head} is invalid (run jit validate):\n${headPolicy.diagnostics.map((d) => `${d.path}:${d.line}:${d.column}: ${d.message}`).join("\n")}`, EXIT.invalid);
  const basePolicy = await policyAt(root, base);
  const before: LoadedPolicy | undefined = basePolicy?.ok ? basePolicy.policy : undefined;
  const baseProblems = basePolicy === null ? [{ path: POLICY_PATH, line: 1, column: 1, endLine: 1, endColumn: 1, message: `${base} has no ${POLICY_PATH}: every role is new` }] : basePolicy.ok ? [] : basePolicy.diagnostics;
  const p = plan(before, await codeownersAt(root, base), headPolicy.policy, await codeownersAt(root, head));
  return { base, head, plan: p, summary: planSummary(p), widens: widens(p), baseProblems };
}

/** The base when none is given: the remote's default branch if the clone knows it, else `main`. */
export async function defaultBase(root: string): Promise<string> {
  try {
    const { stdout } = await run("git", ["-C", root, "rev-parse", "--abbrev-ref", "origin/HEAD"], { encoding: "utf8" });
    return stdout.trim() || "main";
  } catch {
    return "main";
  }
}

async function resolveRef(root: string, ref: string): Promise<void> {
  // `--end-of-options`: a ref that starts with "-" is a ref, never an option.
  try {
    await run("git", ["-C", root, "rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], { encoding: "utf8" });
  } catch {
    throw new CliError(`${ref} is not a commit of the git checkout at ${root}`, EXIT.usage);
  }
}

/** A file's content at a ref; null when the ref has no such file. */
async function fileAt(root: string, ref: string, path: string, maxBytes: number): Promise<string | null> {
  try {
    const { stdout } = await run("git", ["-C", root, "show", `${ref}:${path}`], { encoding: "utf8", maxBuffer: maxBytes + 1 });
    return stdout;
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER") throw new CliError(`${path} at ${ref} is larger than ${maxBytes} bytes`, EXIT.invalid);
    return null;
  }
}

async function policyAt(root: string, ref: string) {
  const text = await fileAt(root, ref, POLICY_PATH, MAX_POLICY_BYTES);
  return text === null ? null : loadPolicy(POLICY_PATH, text);
}

/** CODEOWNERS at a ref, first found in GitHub's order; null when there is none. */
async function codeownersAt(root: string, ref: string): Promise<Codeowners | null> {
  for (const path of CODEOWNERS_PATHS) {
    const text = await fileAt(root, ref, path, MAX_CODEOWNERS_BYTES);
    if (text !== null) return parseCodeowners(path, text);
  }
  return null;
}

const STYLE: Record<Effect, Style | undefined> = { widening: "red", narrowing: "green", neutral: "dim" };

/** The same table as the check, one per resource; on a terminal the widening lines in red. */
export function formatPlan(local: LocalPlan, out: Output): string {
  const p = local.plan;
  const lines: string[] = [`${local.base} → ${local.head}: ${local.summary}\n`];
  for (const problem of local.baseProblems) lines.push(out.text(`note: ${problem.path}:${problem.line}:${problem.column}: ${problem.message}\n`));
  for (const group of planGroups(p)) {
    lines.push(`\n${out.paint(out.text(group.title), "bold")}\n`);
    // The people column only where the directory named someone (the CLI reads no directory itself).
    const people = group.changes.some((c) => c.people !== undefined);
    lines.push(
      out.table(
        group.changes.map((c) => {
          const style = STYLE[c.effect];
          const cell = (text: string) => ({ text, style });
          return [cell(`${EFFECT_ICON[c.effect]} ${c.effect}`), cell(c.role ?? "all"), cell(c.field), cell(c.before), cell("→"), cell(c.after), ...(people ? [cell(peopleText(c))] : [])];
        }),
      ),
    );
  }
  for (const note of p.liveGrants) lines.push(out.text(`\n${note.text}\n`));
  if (p.narrowed.length > 0 && !p.liveGrantsChecked) lines.push("\nlive grants are not checked offline: the pull request's check names those the new policy would not allow\n");
  return lines.join("");
}
