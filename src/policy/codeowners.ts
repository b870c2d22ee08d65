import ignore from "ignore";
import type { Diagnostic } from "../diagnostics.js";

/**
 * CODEOWNERS with GitHub's semantics: gitignore-style patterns (matched by the `ignore`
 * library, which implements git's rules), the last matching rule wins, a rule with no owners
 * leaves its paths unowned. GitHub does not support `!` negation or `[...]` ranges in
 * CODEOWNERS; such lines, like email owners and malformed owners, are reported and skipped,
 * never fatal: the rest of the file still applies.
 */
export interface CodeownersRule {
  line: number;
  pattern: string;
  owners: string[];
  matches(path: string): boolean;
}

export interface Codeowners {
  path: string;
  rules: CodeownersRule[];
  problems: Diagnostic[];
}

const OWNER = /^@[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\/[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?)?$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function parseCodeowners(path: string, text: string): Codeowners {
  const rules: CodeownersRule[] = [];
  const problems: Diagnostic[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const problem = (message: string, column = 1) =>
      problems.push({ path, line, column, endLine: line, endColumn: raw.length + 1, message });
    const content = stripComment(raw).trim();
    if (!content) return;
    const [pattern, ...owners] = splitFields(content);
    if (!pattern) return;
    if (pattern.startsWith("!")) return problem(`negated patterns are not supported in CODEOWNERS: ${pattern}`);
    if (/(^|[^\\])\[/.test(pattern)) return problem(`character ranges are not supported in CODEOWNERS: ${pattern}`);
    const valid: string[] = [];
    for (const owner of owners) {
      if (OWNER.test(owner)) valid.push(owner.toLowerCase());
      else if (EMAIL.test(owner)) problem(`email owner ${owner} cannot be checked against reviews; use @login or @org/team`);
      else problem(`${owner} is not an owner (@login or @org/team)`);
    }
    rules.push({ line, pattern, owners: valid, matches: matcherFor(pattern) });
  });
  return { path, rules, problems };
}

/** The owners of a path: those of the last matching rule (possibly none), GitHub's rule. */
export function ownersOf(codeowners: Codeowners, filePath: string): { owners: string[]; rule: CodeownersRule | undefined } {
  for (let i = codeowners.rules.length - 1; i >= 0; i--) {
    const rule = codeowners.rules[i]!;
    if (rule.matches(filePath)) return { owners: [...new Set(rule.owners)], rule };
  }
  return { owners: [], rule: undefined };
}

/**
 * git's rules (through `ignore`) with GitHub's one documented difference: a rule whose last
 * segment is a wildcard matches files, not directories — "`docs/*` will match files like
 * docs/getting-started.md but not further nested files like docs/build-app/troubleshooting.md".
 * In git, `docs/*` would match the directory docs/build-app and so everything inside it.
 * Directory rules (`apps/`, `/docs/`) and plain names still own everything below them.
 */
function matcherFor(pattern: string): (path: string) => boolean {
  const matcher = ignore().add(pattern);
  const body = pattern.replace(/\/$/, "");
  const last = body.slice(body.lastIndexOf("/") + 1);
  const wildcardLast = last.includes("*") && last !== "**";
  if (!wildcardLast) return (path) => matcher.ignores(path);
  if (!body.includes("/")) {
    // No slash: matched against the file's own name at any depth.
    return (path) => matcher.ignores(path.slice(path.lastIndexOf("/") + 1));
  }
  return (path) => {
    if (!matcher.ignores(path)) return false;
    const parent = path.slice(0, path.lastIndexOf("/") + 1);
    return parent === "" || !matcher.ignores(parent);
  };
}

/** `#` starts a comment unless escaped (`\#`). */
function stripComment(line: string): string {
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\\") i++;
    else if (line[i] === "#") return line.slice(0, i);
  }
  return line;
}

/** Splits on whitespace, keeping `\ ` (escaped spaces) inside a pattern. */
function splitFields(content: string): string[] {
  return content.split(/(?<!\\)\s+/).filter(Boolean);
}
