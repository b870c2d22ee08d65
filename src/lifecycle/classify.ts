import { fileDiagnostic, type Diagnostic } from "../diagnostics.js";
import { CODEOWNERS_PATHS, isUnderGrants, parseGrantPath, POLICY_PATH } from "../policy/paths.js";

export interface ChangedFile {
  path: string;
  status: "added" | "removed" | "modified" | "renamed" | "copied" | "changed" | "unchanged";
  blobSha: string;
  previousPath?: string;
}

/** What a pull request is, to jit-access, judged from the files it changes. */
export type PullRequestKind =
  /** Touches neither grants/ nor the policy nor CODEOWNERS: not ours. */
  | { kind: "unrelated" }
  /**
   * Changes the policy file or a CODEOWNERS file (which says who approves what: as much an access
   * change as the policy), maybe other files outside grants/ too. The policy at the head is
   * validated; the change needs the approval of the policy's CODEOWNERS groups and of the touched
   * CODEOWNERS files' groups, for the whole diff of the head. `file`: the policy file, when changed.
   */
  | { kind: "policy-change"; file?: ChangedFile; codeowners: ChangedFile[] }
  /** Adds exactly one grant file and nothing else. */
  | { kind: "request"; file: ChangedFile }
  /** Only deletes grant files: ends live grants (an early revoke) or is the app's own revert. */
  | { kind: "removal"; files: ChangedFile[] }
  /** Touches grants/ (or the policy) in a way no request may: fails the check. */
  | { kind: "malformed"; diagnostics: Diagnostic[]; file?: ChangedFile };

/** GitHub lists at most this many files of a pull request, however many pages are read. */
export const MAX_LISTED_FILES = 3000;

const isCodeowners = (path: string | undefined) => path !== undefined && (CODEOWNERS_PATHS as readonly string[]).includes(path);

/**
 * A request PR holds exactly one added grant file and nothing else (docs/reference/access-repository.md). Grants are
 * immutable once merged: editing or renaming one is refused, a new request is the way.
 */
export function classifyPullRequest(files: readonly ChangedFile[], totalFiles: number): PullRequestKind {
  // What was not listed cannot be judged: a policy change hidden behind filler files would
  // otherwise pass as unrelated (no check at all). Whatever the PR touches, it fails closed.
  if (totalFiles > files.length || totalFiles > MAX_LISTED_FILES) {
    const why = totalFiles > MAX_LISTED_FILES ? `GitHub lists at most ${MAX_LISTED_FILES}` : `GitHub listed ${files.length}`;
    return { kind: "malformed", diagnostics: [fileDiagnostic(files[0]?.path ?? ".", `too many files to judge: this pull request changes ${totalFiles} files and ${why}; split it so that jit-access can see every file`)] };
  }
  const grantFiles = files.filter((f) => isUnderGrants(f.path) || (f.previousPath !== undefined && isUnderGrants(f.previousPath)));
  const policyFile = files.find((f) => f.path === POLICY_PATH || f.previousPath === POLICY_PATH);
  const codeowners = files.filter((f) => isCodeowners(f.path) || isCodeowners(f.previousPath));
  if (grantFiles.length === 0 && !policyFile && codeowners.length === 0) return { kind: "unrelated" };

  if (grantFiles.length === 0) {
    if (policyFile && (policyFile.status === "removed" || policyFile.path !== POLICY_PATH)) {
      return { kind: "malformed", diagnostics: [fileDiagnostic(POLICY_PATH, "the policy file cannot be deleted or renamed by a pull request; it would leave every request unjudged")] };
    }
    return { kind: "policy-change", ...(policyFile ? { file: policyFile } : {}), codeowners };
  }
  if (policyFile) {
    return { kind: "malformed", diagnostics: [fileDiagnostic(POLICY_PATH, "change the policy in a pull request of its own: a request is judged by the policy already on the default branch")] };
  }
  if (codeowners.length > 0) {
    return { kind: "malformed", diagnostics: codeowners.map((f) => fileDiagnostic(f.path, "change CODEOWNERS in a pull request of its own: a request is judged by the CODEOWNERS already on the default branch")) };
  }

  if (grantFiles.every((f) => f.status === "removed") && grantFiles.length === files.length) {
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
  if (problems.length > 0 || added.length === 0) {
    return { kind: "malformed", diagnostics: problems, ...(added[0] ? { file: added[0] } : {}) };
  }
  return { kind: "request", file: added[0]! };
}
