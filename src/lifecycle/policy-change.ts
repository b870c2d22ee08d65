import { countApprovals, screenReviews, type MembershipLookup, type Requirement } from "../approval/evaluate.js";
import { fileDiagnostic } from "../diagnostics.js";
import { ownersOf } from "../policy/codeowners.js";
import { POLICY_PATH } from "../policy/paths.js";
import type { Decision } from "./decide.js";
import { codeownersWarnings, completed, count, errorList, progressSummary } from "./present.js";
import type { RequestSnapshot } from "./snapshot.js";

/**
 * A pull request that changes the policy (PRODUCT.md §3). A policy change is itself an access
 * change: its `jit-access` check succeeds only when the new policy is valid and every CODEOWNERS
 * group of the policy file (CODEOWNERS of the default branch) has approved the current head,
 * counted by the rules of §4 with mode all and one approval per group. Until then it is in
 * progress and names the groups still missing. Only the check speaks: the app never merges a
 * policy change, and other non-grant files in the same PR are left to GitHub's own code owners.
 */
export function decidePolicyChange(s: RequestSnapshot, teamMember: MembershipLookup): Decision {
  if (s.pr.state === "closed" || s.kind.kind !== "policy-change") return { status: null, actions: [] };
  const result = s.proposedPolicy;
  if (!result?.ok) {
    const diagnostics = result?.ok === false ? result.diagnostics : [];
    return { status: null, actions: [], check: completed("failure", `The new policy has ${count(diagnostics, "error")}`, errorList(diagnostics), diagnostics) };
  }

  const owners = s.codeowners ? ownersOf(s.codeowners, POLICY_PATH).owners : [];
  if (owners.length === 0) {
    const where = s.codeowners ? `${s.codeowners.path} on ${s.defaultBranch}` : `CODEOWNERS (none on ${s.defaultBranch})`;
    const diagnostics = [fileDiagnostic(POLICY_PATH, `no approvers mapped: ${where} gives ${POLICY_PATH} no owners; a policy change needs its owners' approval`)];
    return { status: null, actions: [], check: completed("failure", "No approvers mapped", errorList(diagnostics), diagnostics) };
  }

  const requirement: Requirement = { groups: owners, minPerGroup: 1, mode: "all", breakGlass: false };
  const screened = screenReviews({
    requester: s.pr.author,
    author: s.pr.author,
    reviews: s.reviews,
    contributors: s.contributors,
    headSha: s.pr.headSha,
    headBlobSha: s.kind.file.blobSha,
    blobAt: s.blobAt,
    subject: "policy file",
  });
  const outcome = countApprovals(requirement, screened, teamMember);
  const resources = Object.keys(result.policy.raw.resources).length;
  const intro = `${POLICY_PATH} is valid: ${resources} resource(s). A policy change is an access change: every group that ${s.codeowners!.path} on ${s.defaultBranch} gives ${POLICY_PATH} must approve this head. jit-access never merges it; it judges requests once merged into ${s.defaultBranch}.`;
  const summary = `${intro}\n\n${progressSummary(undefined, requirement, outcome, codeownersWarnings(s))}`;
  if (outcome.complete) return { status: null, actions: [], check: completed("success", "The new policy is valid and approved by its owners", summary, []) };

  const missing = outcome.groups.filter((g) => !g.satisfied).map((g) => g.group);
  const owed = `the policy's owners: ${missing.join(", ")}`;
  // An owner's change request holds the check until they approve, as it would a grant.
  const objections = outcome.rejectedBy.length > 0 ? `Changes requested by ${outcome.rejectedBy.join(", ")}` : undefined;
  const title = !objections ? `Waiting for ${owed}` : missing.length > 0 ? `${objections}; waiting for ${owed}` : objections;
  return { status: null, actions: [], check: { status: "in_progress", title, summary, annotations: [] } };
}
