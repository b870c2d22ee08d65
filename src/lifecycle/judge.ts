import { countApprovals, isInGroup, screenReviews, settleVetoes, type ApprovalOutcome, type MembershipLookup, type Requirement } from "../approval/evaluate.js";
import { fileDiagnostic, type Diagnostic } from "../diagnostics.js";
import { parseGrant } from "../grant/parse.js";
import { checkGrantRules } from "../grant/rules.js";
import { ownersOf } from "../policy/codeowners.js";
import type { EffectiveRole, LoadedPolicy } from "../policy/load.js";
import type { Grant } from "../schemas/grant.js";
import type { RequestSnapshot } from "./snapshot.js";

/** The verdict on a request PR, before it is rendered into a check, a label and a comment. */
export type Judgement =
  | { verdict: "broken-policy"; diagnostics: Diagnostic[] }
  | { verdict: "invalid"; diagnostics: Diagnostic[]; grant?: Grant }
  | { verdict: "no-approvers"; grant: Grant; role: EffectiveRole; path: string; diagnostics: Diagnostic[] }
  | { verdict: "rejected"; grant: Grant; role: EffectiveRole; requirement: Requirement; outcome: ApprovalOutcome; by: string; reason: string }
  | { verdict: "pending" | "approved"; grant: Grant; role: EffectiveRole; requirement: Requirement; outcome: ApprovalOutcome };

export function judgeRequest(s: RequestSnapshot, now: Date, teamMember: MembershipLookup): Judgement {
  if (!s.policy.ok) return { verdict: "broken-policy", diagnostics: s.policy.diagnostics };
  const policy = s.policy.policy;
  if (s.kind.kind === "malformed") return { verdict: "invalid", diagnostics: s.kind.diagnostics };
  if (s.kind.kind !== "request") return { verdict: "invalid", diagnostics: [fileDiagnostic(".", "this pull request is not a grant request")] };
  const path = s.kind.file.path;
  // Checked before the content is even read: a fork's branch is outside the access repository's protection.
  if (s.pr.fromFork) {
    return { verdict: "invalid", diagnostics: [fileDiagnostic(path, "requests from forks are refused: push the branch to the access repository itself")] };
  }
  if (!s.grantContent) return { verdict: "invalid", diagnostics: [fileDiagnostic(path, "the grant file could not be read")] };
  const parsed = parseGrant(path, s.grantContent);
  if (!parsed.ok) return { verdict: "invalid", diagnostics: parsed.diagnostics };
  const grant = parsed.grant;
  const requesterAllowed = policy.requesters ? policy.requesters.some((g) => isInGroup(g.toLowerCase(), grant.requester, teamMember)) : undefined;
  const rules = checkGrantRules(parsed, policy, { author: s.pr.author, requestedAt: new Date(s.pr.createdAt), requesterAllowed });
  if (rules.diagnostics.length > 0 || !rules.role) return { verdict: "invalid", diagnostics: rules.diagnostics, grant };
  const role = rules.role;

  const requirement = requirementFor(grant, role, policy, s, path);
  const screened = screenReviews({
    requester: grant.requester,
    author: s.pr.author,
    reviews: s.reviews,
    contributors: s.contributors,
    headSha: s.pr.headSha,
    headBlobSha: s.kind.file.blobSha,
    blobAt: s.blobAt,
  });
  // `/jit reject` vetoes are settled before anything else that needs memberships, then
  // changes-requested reviews (inside countApprovals), then approvals: see settleVetoes.
  const commands = rejectCommands(s, grant);
  const commandVetoes = settleVetoes(requirement.groups, commands.map((c) => c.login), teamMember);
  const outcome = countApprovals(requirement, screened, teamMember);
  outcome.unresolvedVetoes = [...new Set([...commandVetoes.unresolved, ...outcome.unresolvedVetoes])];
  if (outcome.unresolvedVetoes.length > 0) outcome.complete = false;
  const autoGroup = grant.emergency ? undefined : role.autoApprove.find((g) => isInGroup(g.toLowerCase(), grant.requester, teamMember));
  if (autoGroup) {
    outcome.autoApprovedBy = autoGroup;
    outcome.complete = outcome.rejectedBy.length === 0 && outcome.unresolvedVetoes.length === 0;
  }

  const rejection = rejectionOf(outcome, commands, commandVetoes.by);
  if (rejection) return { verdict: "rejected", grant, role, requirement, outcome, ...rejection };
  if (outcome.complete) return { verdict: "approved", grant, role, requirement, outcome };
  if (requirement.groups.length === 0) {
    const where = s.codeowners ? `${s.codeowners.path} on ${s.pr.baseRef}` : `CODEOWNERS (none on ${s.pr.baseRef})`;
    return { verdict: "no-approvers", grant, role, path, diagnostics: [fileDiagnostic(path, `no approvers mapped: ${where} gives ${path} no owners`)] };
  }
  if (now.getTime() - Date.parse(s.pr.createdAt) > role.pendingTimeoutMs) {
    return { verdict: "rejected", grant, role, requirement, outcome, by: "jit-access", reason: "timed out: not approved within the pending timeout" };
  }
  return { verdict: "pending", grant, role, requirement, outcome };
}

/** Emergency grants are judged by break_glass.approvers (one approval); others by CODEOWNERS of the path. */
function requirementFor(grant: Grant, role: EffectiveRole, policy: LoadedPolicy, s: RequestSnapshot, path: string): Requirement {
  if (grant.emergency && policy.breakGlass) {
    return { groups: policy.breakGlass.approvers.map((g) => g.toLowerCase()), minPerGroup: 1, mode: "any", breakGlass: true };
  }
  const owners = s.codeowners ? ownersOf(s.codeowners, path).owners : [];
  return { groups: owners, minPerGroup: role.approvals.minPerGroup, mode: role.approvals.mode, breakGlass: false };
}

/** `/jit reject` commands that may veto: not from the requester or the PR author (closing withdraws a request). */
function rejectCommands(s: RequestSnapshot, grant: Grant): RequestSnapshot["commands"] {
  const own = new Set([grant.requester.toLowerCase(), s.pr.author.toLowerCase()]);
  return s.commands.filter((c) => c.command === "reject" && !own.has(c.login.toLowerCase()));
}

/** A CHANGES_REQUESTED review or a `/jit reject` comment from someone who could approve ends the request. */
function rejectionOf(outcome: ApprovalOutcome, commands: RequestSnapshot["commands"], vetoers: readonly string[]) {
  const first = outcome.rejectedBy[0];
  if (first) return { by: first, reason: "changes requested in a review" };
  const command = commands.find((c) => vetoers.includes(c.login));
  return command ? { by: command.login, reason: command.reason || "no reason given" } : undefined;
}
