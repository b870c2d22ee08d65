import { fileDiagnostic, type Diagnostic } from "../diagnostics.js";
import { isUnderGrants, parseGrantPath, POLICY_PATH } from "../policy/paths.js";

export interface ChangedFile {
  path: string;
  status: "added" | "removed" | "modified" | "renamed" | "copied" | "changed" | "unchanged";
  blobSha: string;
  previousPath?: string;
}

/** What a pull request is, to jit-access, judged from the files it changes. */
export type PullRequestKind =
  /** Touches neither grants/ nor the policy: not ours. */
  | { kind: "unrelated" }
  /**
   * Changes the policy file, maybe other files outside grants/ too: the new policy is validated
   * and needs its CODEOWNERS groups' approval; the other files are GitHub's code owners' business.
   */
  | { kind: "policy-change"; file: ChangedFile }
  /** Adds exactly one grant file and nothing else. */
  | { kind: "request"; file: ChangedFile }
  /** Only deletes grant files: ends live grants (an early revoke) or is the app's own revert. */
  | { kind: "removal"; files: ChangedFile[] }
  /** Touches grants/ (or the policy) in a way no request may: fails the check. */
  | { kind: "malformed"; diagnostics: Diagnostic[]; file?: ChangedFile };

/**
 * A request PR holds exactly one added grant file and nothing else (PRODUCT.md §5). Grants are
 * immutable once merged: editing or renaming one is refused, a new request is the way.
 */
export function classifyPullRequest(files: readonly ChangedFile[], totalFiles: number): PullRequestKind {
  const grantFiles = files.filter((f) => isUnderGrants(f.path) || (f.previousPath !== undefined && isUnderGrants(f.previousPath)));
  const policyFile = files.find((f) => f.path === POLICY_PATH || f.previousPath === POLICY_PATH);
  if (grantFiles.length === 0 && !policyFile) return { kind: "unrelated" };

  if (policyFile && grantFiles.length === 0) {
    if (policyFile.status === "removed" || policyFile.path !== POLICY_PATH) {
      return { kind: "malformed", diagnostics: [fileDiagnostic(POLICY_PATH, "the policy file cannot be deleted or renamed by a pull request; it would leave every request unjudged")] };
    }
    return { kind: "policy-change", file: policyFile };
  }
  if (policyFile) {
    return { kind: "malformed", diagnostics: [fileDiagnostic(POLICY_PATH, "change the policy in a pull request of its own: a request is judged by the policy already on the default branch")] };
  }

  if (grantFiles.every((f) => f.status === "removed") && grantFiles.length === files.length && files.length === totalFiles) {
    return { kind: "removal", files: grantFiles };
  }

  const added = grantFiles.filter((f) => f.status === "added");
  const problems: Diagnostic[] = [];
  for (const f of grantFiles) {
    if (f.status === "added") continue;
    problems.push(fileDiagnostic(f.path, f.status === "removed"
      ? "a request cannot also delete a grant file; end a grant in a pull request of its own"
      : "grant files cannot be changed once committed; open a new request instead"));
  }
  for (const f of added) {
    if (!parseGrantPath(f.path)) problems.push(fileDiagnostic(f.path, "a grant file must be grants/<resource>/<name>.yaml (plain names, no sub-folders)"));
  }
  if (added.length > 1) {
    for (const f of added.slice(1)) problems.push(fileDiagnostic(f.path, `a request adds exactly one grant file; this pull request adds ${added.length}`));
  }
  for (const f of files) {
    if (!grantFiles.includes(f)) problems.push(fileDiagnostic(f.path, "a request pull request may only add one grant file; move other changes to their own pull request"));
  }
  if (totalFiles > files.length) {
    problems.push(fileDiagnostic(added[0]?.path ?? files[0]!.path, `this pull request changes ${totalFiles} files; a request adds exactly one grant file`));
  }
  if (problems.length > 0 || added.length === 0) {
    return { kind: "malformed", diagnostics: problems, ...(added[0] ? { file: added[0] } : {}) };
  }
  return { kind: "request", file: added[0]! };
}
