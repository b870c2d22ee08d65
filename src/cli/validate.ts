import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { fileDiagnostic, sortDiagnostics, type Diagnostic } from "../diagnostics.js";
import { parseGrant } from "../grant/parse.js";
import { checkGrantRules } from "../grant/rules.js";
import { ownersOf, parseCodeowners, type Codeowners } from "../policy/codeowners.js";
import { loadPolicy } from "../policy/load.js";
import { CODEOWNERS_PATHS, GRANTS_DIR, MAX_GRANT_BYTES, POLICY_PATH } from "../policy/paths.js";

export interface ValidationReport {
  errors: Diagnostic[];
  warnings: Diagnostic[];
  checkedGrants: number;
}

/**
 * `jit validate`: the app's own checks, offline, on a checkout. What needs GitHub (team
 * memberships, the PR author) is skipped; everything else is the same code the app runs.
 * Explicit paths are treated as new requests, so a `start` in the past is an error for them;
 * grants found by scanning grants/ may be old and are not held to the clock.
 */
export function validateCheckout(root: string, paths: string[], now: Date, cwd = root): ValidationReport {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const policyFile = join(root, POLICY_PATH);
  if (!existsSync(policyFile)) {
    return { errors: [fileDiagnostic(POLICY_PATH, `no policy: ${POLICY_PATH} is missing, so this is not an access repository`)], warnings, checkedGrants: 0 };
  }
  const policy = loadPolicy(POLICY_PATH, readFileSync(policyFile));
  if (!policy.ok) errors.push(...policy.diagnostics);

  const codeowners = readCodeowners(root);
  if (codeowners) warnings.push(...codeowners.problems);

  const explicit = paths.length > 0;
  const grantPaths = explicit ? paths.map((p) => toRepoPath(root, cwd, p)) : listGrantFiles(root);
  for (const path of grantPaths) {
    const absolute = join(root, path);
    if (!existsSync(absolute) || !statSync(absolute).isFile()) {
      errors.push(fileDiagnostic(path, "no such file"));
      continue;
    }
    if (statSync(absolute).size > MAX_GRANT_BYTES) {
      errors.push(fileDiagnostic(path, `file is ${statSync(absolute).size} bytes; the limit is ${MAX_GRANT_BYTES} bytes`));
      continue;
    }
    const parsed = parseGrant(path, readFileSync(absolute));
    if (!parsed.ok) {
      errors.push(...parsed.diagnostics);
      continue;
    }
    if (!policy.ok) continue;
    const { diagnostics, role } = checkGrantRules(parsed, policy.policy, { requestedAt: explicit ? now : new Date(0) });
    errors.push(...diagnostics);
    const autoApproves = (role?.autoApprove.length ?? 0) > 0;
    if (role && !parsed.grant.emergency && !autoApproves && (!codeowners || ownersOf(codeowners, path).owners.length === 0)) {
      errors.push({ path, message: `no approvers mapped: ${codeowners?.path ?? "CODEOWNERS (none found)"} gives ${path} no owners`, ...parsed.locate.value([]) });
    }
  }
  return { errors: sortDiagnostics(errors), warnings: sortDiagnostics(warnings), checkedGrants: grantPaths.length };
}

function readCodeowners(root: string): Codeowners | undefined {
  for (const path of CODEOWNERS_PATHS) {
    const file = join(root, path);
    if (existsSync(file)) return parseCodeowners(path, readFileSync(file, "utf8"));
  }
  return undefined;
}

function listGrantFiles(root: string): string[] {
  const dir = join(root, GRANTS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map((name) => `${GRANTS_DIR}/${String(name).split(sep).join("/")}`)
    .filter((path) => /\.ya?ml$/.test(path) && statSync(join(root, path)).isFile())
    .sort();
}

/** A path given on the command line (relative to the working directory), as the repository names it. */
function toRepoPath(root: string, cwd: string, path: string): string {
  return relative(resolve(root), resolve(cwd, path)).split(sep).join("/");
}
