import { countApprovals, screenReviews, type MembershipLookup, type Requirement } from "../approval/evaluate.js";
import { fileDiagnostic } from "../diagnostics.js";
import { ownersOf } from "../policy/codeowners.js";
import { POLICY_PATH } from "../policy/paths.js";
import type { Decision } from "./decision.js";
import type { RequestSnapshot } from "./snapshot.js";

/**
 * A pull request that changes the policy (docs: policy). A policy change is itself an access
 * change: its `jit-access` check succeeds only when the new policy is valid and every CODEOWNERS
 * group of the policy file (CODEOWNERS of the default branch) has approved the current head,
 * counted by the rules of §4 with mode all and one approval per group. Until then it is in
 * progress and names the groups still missing. Only the check speaks: the app never merges a
 * policy change, and other non-grant files in the same PR are left to GitHub's own code owners.
 */
export function decidePolicyChange(s: RequestSnapshot, teamMember: MembershipLookup): Decision {
  if (s.pr.state === "closed" || s.kind.kind !== "policy-change") return { status: null, effects: [] };
  const result = s.proposedPolicy;
  if (!result?.ok) {
    const diagnostics = result?.ok === false ? result.diagnostics : [];
    return { status: null, effects: [], check: { kind: "policy-invalid", errors: diagnostics } };
  }

  const owners = s.codeowners ? ownersOf(s.codeowners, POLICY_PATH).owners : [];
  if (owners.length === 0) {
    const where = s.codeowners ? `${s.codeowners.path} on ${s.defaultBranch}` : `CODEOWNERS (none on ${s.defaultBranch})`;
    const diagnostics = [fileDiagnostic(POLICY_PATH, `no approvers mapped: ${where} gives ${POLICY_PATH} no owners; a policy change needs its owners' approval`)];
    return { status: null, effects: [], check: { kind: "policy-no-approvers", errors: diagnostics } };
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
  const view = {
    resources: Object.keys(result.policy.raw.resources).length,
    codeownersPath: s.codeowners!.path,
    approvals: { requirement, outcome },
    warnings: s.codeowners?.problems ?? [],
  };
  return { status: null, effects: [], check: { kind: outcome.complete ? "policy-approved" : "policy-waiting", ...view } };
}
