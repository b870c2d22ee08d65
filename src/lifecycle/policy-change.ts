import { countApprovals, screenReviews, type MembershipLookup, type Requirement } from "../approval/evaluate.js";
import { fileDiagnostic } from "../diagnostics.js";
import { ownersOf } from "../policy/codeowners.js";
import { POLICY_PATH } from "../policy/paths.js";
import { wideningAnnotations } from "../plan/annotations.js";
import { plan, widens } from "../plan/plan.js";
import type { AccessPlan } from "../plan/types.js";
import type { Decision } from "./decision.js";
import { untrustedPolicy } from "./provenance.js";
import type { RequestSnapshot } from "./snapshot.js";

/**
 * A pull request that changes the policy or CODEOWNERS (docs: policy). A policy change is itself an
 * access change: its `jit-access` check succeeds only when the new policy is valid and every
 * CODEOWNERS group of the policy file (and of the CODEOWNERS files it touches; CODEOWNERS of the
 * default branch) has approved the current head, or an older commit with the very same diff,
 * counted by the rules of §4 with mode all and one approval per group. Until then it is in
 * progress and names the groups still missing. The check carries the access plan (src/plan/):
 * what the change widens and narrows against the default branch; a change that widens access
 * also needs the groups the default branch's `changes.widening_requires` names. Only the check
 * speaks: the app never merges a policy change, and other non-grant files in the same PR are left
 * to GitHub's own code owners.
 */
export function decidePolicyChange(s: RequestSnapshot, teamMember: MembershipLookup): Decision {
  if (s.pr.state === "closed" || s.kind.kind !== "policy-change") return { status: null, effects: [] };
  const result = s.proposedPolicy;
  if (!result?.ok) {
    const diagnostics = result?.ok === false ? result.diagnostics : [];
    return { status: null, effects: [], check: { kind: "policy-invalid", errors: diagnostics } };
  }

  const untrusted = untrustedPolicy(s);
  if (untrusted) return untrusted;

  const owners = s.codeowners ? ownersOf(s.codeowners, POLICY_PATH).owners : [];
  if (owners.length === 0) {
    const where = s.codeowners ? `${s.codeowners.path} on ${s.defaultBranch}` : `CODEOWNERS (none on ${s.defaultBranch})`;
    const diagnostics = [fileDiagnostic(POLICY_PATH, `no approvers mapped: ${where} gives ${POLICY_PATH} no owners; a policy change needs its owners' approval`)];
    return { status: null, effects: [], check: { kind: "policy-no-approvers", errors: diagnostics } };
  }

  // A CODEOWNERS change decides who approves everything, the policy included: it needs the policy's
  // owners and, where CODEOWNERS gives them, the owners of each CODEOWNERS file it touches and of
  // the one in force (deleting one file can put another in force).
  const touched = s.kind.codeowners.flatMap((f) => [f.path, ...(f.previousPath ? [f.previousPath] : [])]);
  const codeownersPaths = touched.length > 0 ? [...new Set([s.codeowners!.path, ...touched])] : [];
  const ownerGroups = [...new Set([...owners, ...codeownersPaths.flatMap((path) => ownersOf(s.codeowners!, path).owners)])];
  // Against the default branch: its policy (if it loads) and CODEOWNERS, and the head's.
  const before = s.policy.ok ? s.policy.policy : undefined;
  const accessPlan = plannedFor(s, () => plan(before, s.codeowners ?? null, result.policy, s.proposedCodeowners === undefined ? s.codeowners : s.proposedCodeowners, s.directory, s.liveGrants));
  // The default branch's rule, never the head's: a change cannot drop the groups that must approve it.
  const wideningRequires = widens(accessPlan) && before ? before.wideningRequires.filter((g) => !ownerGroups.includes(g)) : [];
  const groups = [...ownerGroups, ...wideningRequires];
  const requirement: Requirement = { groups, minPerGroup: 1, mode: "all", breakGlass: false };
  const screened = screenReviews({
    requester: s.pr.author,
    author: s.pr.author,
    reviews: s.reviews,
    contributors: s.contributors,
    headSha: s.pr.headSha,
    headBlobSha: s.kind.file?.blobSha ?? "",
    blobAt: s.blobAt,
    // The whole diff, not the policy file's blob: an approval is of everything the PR changes.
    sameDiffAt: s.sameDiffAt ?? new Map(),
  });
  const outcome = countApprovals(requirement, screened, teamMember);
  const view = {
    resources: Object.keys(result.policy.raw.resources).length,
    codeownersPath: s.codeowners!.path,
    codeownersChanged: touched,
    approvals: { requirement, outcome },
    warnings: s.codeowners?.problems ?? [],
    plan: accessPlan,
    widening: s.kind.file ? wideningAnnotations(accessPlan, result.policy.locate, POLICY_PATH) : [],
    wideningRequires,
  };
  return { status: null, effects: [], check: { kind: outcome.complete ? "policy-approved" : "policy-waiting", ...view } };
}

/**
 * The plan of a snapshot, computed once: membership lookups decide again for every team member
 * they learn (github/snapshot.ts resolveMemberships), and none of that changes the plan's inputs.
 */
const plans = new WeakMap<RequestSnapshot, AccessPlan>();
function plannedFor(s: RequestSnapshot, compute: () => AccessPlan): AccessPlan {
  let known = plans.get(s);
  if (!known) plans.set(s, (known = compute()));
  return known;
}
