import { fileDiagnostic, type Diagnostic } from "../diagnostics.js";
import { completeRecord } from "./complete.js";
import type { Decision } from "./decision.js";
import { decidedFromState, MERGED_OUTSIDE } from "./record.js";
import type { RequestSnapshot } from "./snapshot.js";
import { STATUS_LABELS } from "./status.js";

/**
 * Only pull requests into the default branch are requests or deletions of live grants
 * (docs: grant file). Anywhere else the branch's own CODEOWNERS would pick the approvers, and the
 * grant file would never reach the default branch: a requester could push a branch whose
 * CODEOWNERS names a friend, target it, and be approved and applied without the real owners.
 *
 * A merged PR whose grant state is already recorded is left to the normal flow: its base was the
 * default branch when it was judged, and a later rename of the default branch must not stop a
 * live grant from being revoked.
 */
export function judgedOffDefaultBranch(s: Pick<RequestSnapshot, "pr" | "defaultBranch" | "kind" | "record">): boolean {
  if (s.pr.baseRef === s.defaultBranch) return false;
  if (s.kind.kind !== "request" && s.kind.kind !== "malformed" && s.kind.kind !== "removal") return false;
  if (s.pr.merged && recordedGrantState(s)) return false;
  return true;
}

function recordedGrantState(s: Pick<RequestSnapshot, "record">): boolean {
  const status = s.record?.status;
  return decidedFromState(s.record) || (status !== undefined && status !== null && status !== "PENDING");
}

/** The decision for a grant PR that does not target the default branch; undefined: the normal flow decides. */
export function decideOffDefaultBranch(s: RequestSnapshot): Decision | undefined {
  const base = s.pr.baseRef;
  const main = s.defaultBranch;
  if (s.kind.kind === "removal") {
    if (s.pr.state === "closed") return { status: null, effects: [] }; // merged or not, it revoked nothing
    const diagnostics = s.kind.files.map((f) =>
      fileDiagnostic(f.path, `this pull request targets ${base}, not the default branch ${main}: deleting a grant file there ends no grant. Change its base to ${main}.`),
    );
    return { status: null, effects: [], check: { kind: "off-default", errors: diagnostics } };
  }
  if (s.pr.state === "closed" && !s.pr.merged) return undefined; // closed without merging: rejected as usual

  const path = s.kind.kind === "request" ? s.kind.file.path : s.kind.kind === "malformed" ? (s.kind.file?.path ?? s.kind.diagnostics[0]?.path ?? ".") : ".";
  const baseError = fileDiagnostic(path, `requests must target the default branch ${main}; this pull request targets ${base}, where jit-access neither reads approvers nor applies anything. Change its base to ${main}.`);
  const diagnostics: Diagnostic[] = [baseError, ...(s.kind.kind === "malformed" ? s.kind.diagnostics : [])];

  if (s.pr.merged) {
    // Recorded once: a later evaluation finds REJECTED in the state and leaves it to decideMerged,
    // which keeps it as it is (MERGED_OUTSIDE: not a bypass to revert).
    return {
      status: "REJECTED",
      label: STATUS_LABELS.REJECTED,
      record: completeRecord(s, { status: "REJECTED", ended_by: `${MERGED_OUTSIDE}${base}, not ${main}` }),
      view: { kind: "merged-outside", error: baseError, base },
      effects: [],
      alert: `request merged outside the default branch: ${s.owner}/${s.repo}#${s.pr.number} was merged into ${base}; nothing was applied`,
    };
  }
  return {
    status: null,
    label: null,
    check: { kind: "off-default", errors: diagnostics },
    record: completeRecord(s, { status: null }),
    view: { kind: "off-default", errors: diagnostics, base },
    effects: [],
  };
}
