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
  /** Invalid, and an owner of its path vetoed it meanwhile: rejected for good, whatever is fixed later. */
  | { verdict: "vetoed"; diagnostics: Diagnostic[]; grant?: Grant; by: string; reason: string }
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
  if (s.headClaimedBy !== undefined) {
    // The same commit as another request's head: a second PR could otherwise read (and, once
    // merged, overwrite) that request's record. One commit, one request.
    return { verdict: "invalid", diagnostics: [fileDiagnostic(path, `this commit is already the head of request #${s.headClaimedBy}: a request needs a commit of its own, so push a new commit (or open a new request with jit request)`)] };
  }
  if (!s.grantContent) return { verdict: "invalid", diagnostics: [fileDiagnostic(path, "the grant file could not be read")] };
  const parsed = parseGrant(path, s.grantContent);
  if (!parsed.ok) return invalidOrVetoed(s, path, parsed.diagnostics, undefined, teamMember);
  const grant = parsed.grant;
  const requesterAllowed = policy.requesters ? policy.requesters.some((g) => isInGroup(g.toLowerCase(), grant.requester, teamMember)) : undefined;
  const rules = checkGrantRules(parsed, policy, { author: s.pr.author, requestedAt: new Date(s.pr.createdAt), requesterAllowed });
  if (rules.diagnostics.length > 0 || !rules.role) return invalidOrVetoed(s, path, rules.diagnostics, grant, teamMember);
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
  // A closed request is final: reopening it does not revive it (GitHub's timeline says it was
  // reopened; nobody can remove that). A request rejected and closed by the app stays rejected
  // even if the rejecting review was deleted meanwhile and new commits were pushed. Approvals are
  // shown, never looked up: nothing they say can change the verdict.
  if (s.pr.reopened) {
    const shown = countApprovals(requirement, screened, () => false);
    return { verdict: "rejected", grant, role, requirement, outcome: shown, by: "jit-access", reason: "it was closed and reopened; a closed request is final, open a new one" };
  }
  // Vetoes are settled before anything else that needs memberships: `/jit reject` commands and
  // change requests someone else dismissed, then changes-requested reviews (inside countApprovals),
  // then approvals: see settleVetoes.
  const commands = rejectCommands(s, grant);
  const dismissed = dismissedVetoes(s, grant);
  const commandVetoes = settleVetoes(requirement.groups, [...commands.map((c) => c.login), ...dismissed.map((d) => d.reviewer)], teamMember);
  const outcome = countApprovals(requirement, screened, teamMember);
  outcome.unresolvedVetoes = [...new Set([...commandVetoes.unresolved, ...outcome.unresolvedVetoes])];
  if (outcome.unresolvedVetoes.length > 0) outcome.complete = false;
  const autoGroup = grant.emergency ? undefined : role.autoApprove.find((g) => isInGroup(g.toLowerCase(), grant.requester, teamMember));
  if (autoGroup) {
    outcome.autoApprovedBy = autoGroup;
    outcome.complete = outcome.rejectedBy.length === 0 && outcome.unresolvedVetoes.length === 0;
  }

  const rejection = rejectionOf(outcome, commands, dismissed, commandVetoes.by);
  if (rejection) return { verdict: "rejected", grant, role, requirement, outcome, ...rejection };
  // The timeout comes before the approvals: approvals that complete after it (before the sweep
  // closed the request) do not count. A merged request is judged as of its merge, so the rule
  // for a person merging (merge: manual) is: within pending_timeout of the request.
  const timedOut = now.getTime() - Date.parse(s.pr.createdAt) > role.pendingTimeoutMs;
  if (timedOut && !outcome.autoApprovedBy && requirement.groups.length > 0) {
    return { verdict: "rejected", grant, role, requirement, outcome, by: "jit-access", reason: "timed out: not approved within the pending timeout" };
  }
  if (outcome.complete) return { verdict: "approved", grant, role, requirement, outcome };
  if (requirement.groups.length === 0) {
    const where = s.codeowners ? `${s.codeowners.path} on ${s.pr.baseRef}` : `CODEOWNERS (none on ${s.pr.baseRef})`;
    return { verdict: "no-approvers", grant, role, path, diagnostics: [fileDiagnostic(path, `no approvers mapped: ${where} gives ${path} no owners`)] };
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

/** Change requests dismissed by someone other than their author, and not the requester's or the author's own. */
function dismissedVetoes(s: RequestSnapshot, grant: Grant): { reviewer: string; dismissedBy: string }[] {
  const own = new Set([grant.requester.toLowerCase(), s.pr.author.toLowerCase()]);
  return (s.dismissedChangeRequests ?? []).filter((d) => d.reviewer.toLowerCase() !== d.dismissedBy.toLowerCase() && !own.has(d.reviewer.toLowerCase()));
}

/** A CHANGES_REQUESTED review or a `/jit reject` comment from someone who could approve ends the request. */
function rejectionOf(outcome: ApprovalOutcome, commands: RequestSnapshot["commands"], dismissed: readonly { reviewer: string; dismissedBy: string }[], vetoers: readonly string[]) {
  const first = outcome.rejectedBy[0];
  if (first) return { by: first, reason: "changes requested in a review" };
  // A change request someone else dismissed still stands (final means final): the timeline keeps
  // what the review was, and who dismissed it.
  const stands = dismissed.find((d) => vetoers.includes(d.reviewer));
  if (stands) return { by: stands.reviewer, reason: `changes requested in a review (dismissed by ${stands.dismissedBy}; a rejection stands)` };
  const command = commands.find((c) => vetoers.includes(c.login));
  return command ? { by: command.login, reason: command.reason || "no reason given" } : undefined;
}

/**
 * An invalid request is still open to its owners' veto: a `/jit reject` by someone CODEOWNERS gives
 * its path (the requester and the PR's author excepted) rejects it now. Waiting for a fix would
 * leave the veto to a comment that anyone with write access can edit or delete before the fix.
 * Needs CODEOWNERS in the snapshot (loaded when there is a command to judge).
 */
function invalidOrVetoed(s: RequestSnapshot, path: string, diagnostics: Diagnostic[], grant: Grant | undefined, teamMember: MembershipLookup): Judgement {
  const invalid: Judgement = { verdict: "invalid", diagnostics, ...(grant ? { grant } : {}) };
  if (!s.codeowners) return invalid;
  const own = new Set([s.pr.author.toLowerCase(), ...(grant ? [grant.requester.toLowerCase()] : [])]);
  const commands = s.commands.filter((c) => c.command === "reject" && !own.has(c.login.toLowerCase()));
  if (commands.length === 0) return invalid;
  const owners = ownersOf(s.codeowners, path).owners;
  const { by } = settleVetoes(owners, commands.map((c) => c.login), teamMember);
  const command = commands.find((c) => by.includes(c.login));
  return command ? { verdict: "vetoed", diagnostics, ...(grant ? { grant } : {}), by: command.login, reason: command.reason || "no reason given" } : invalid;
}
