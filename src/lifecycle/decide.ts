import type { ApprovalOutcome, MembershipLookup } from "../approval/evaluate.js";
import type { Diagnostic } from "../diagnostics.js";
import { decideOffDefaultBranch, judgedOffDefaultBranch } from "./base-branch.js";
import { POLICY_PATH } from "../policy/paths.js";
import type { Grant } from "../schemas/grant.js";
import type { GrantTarget } from "../providers/types.js";
import type { CommentState } from "./state-block.js";
import { judgeRequest, type Judgement } from "./judge.js";
import { decideMerged } from "./merged.js";
import { decidePolicyChange } from "./policy-change.js";
import { codeownersWarnings, completed, count, errorList, progressSummary, statusComment, warningList } from "./present.js";
import type { RequestSnapshot } from "./snapshot.js";
import { STATUS_LABELS, type Status, type StatusLabel } from "./status.js";

export interface CheckPlan {
  status: "in_progress" | "completed";
  conclusion?: "success" | "failure";
  title: string;
  summary: string;
  annotations: Diagnostic[];
}

export type Action =
  | { type: "merge"; sha: string; title: string; message: string }
  | { type: "close" }
  | {
      /** Apply through the provider. The executor records `standing` first, then applies, then writes the outcome. */
      type: "apply";
      target: GrantTarget;
      /** Units held before the grant, when an earlier attempt already recorded them. */
      standing: string[] | undefined;
      applying(standing: string[]): string;
      applied(appliedAt: Date, standing: string[], access: string): { label: StatusLabel; comment: string };
      failed(message: string, standing: string[] | undefined): string;
    }
  | {
      /**
       * Take access away: the executor finds the other live grants, revokes only the units
       * none of them (nor standing access) still gives, then records the end with a revert PR.
       */
      type: "revoke";
      target: GrantTarget;
      standing: string[];
      revert: { branch: string; path: string; blobSha: string; title: string; body(revokedAt: Date): string } | undefined;
      ended(revokedAt: Date, revert: { number: number; merged: boolean } | undefined): { label: StatusLabel; comment: string };
      failed(message: string): string;
    }
  | {
      /** A new comment (a warning, a reply), besides the status comment. */
      type: "comment";
      body: string;
      /**
       * Post at most once across replicas: the status comment (which records it) is re-read and
       * written before posting, and nothing is posted if another replica already recorded it.
       */
      once?: (state: CommentState | undefined) => boolean;
    }
  | {
      /** Open (once: the branch name is deterministic) and merge a PR that deletes the grant file. */
      type: "revert";
      branch: string;
      path: string;
      blobSha: string;
      title: string;
      body: string;
      recorded(revertPr: number, merged: boolean): string;
    };

/** What should be true on GitHub after this event. `undefined` fields are left as they are. */
export interface Decision {
  status: Status | null;
  check?: CheckPlan;
  /** The one status label to carry (null: none of ours). */
  label?: StatusLabel | null;
  /** The status comment's full body, state block included. */
  comment?: string;
  actions: Action[];
  /** Something security must hear about (a policy bypass): logged at error level. */
  alert?: string;
}

const NOTHING: Decision = { status: null, actions: [] };

export function decide(s: RequestSnapshot, now: Date, teamMember: MembershipLookup): Decision {
  const offDefault = judgedOffDefaultBranch(s) ? decideOffDefaultBranch(s) : undefined;
  if (offDefault) return offDefault;
  switch (s.kind.kind) {
    case "unrelated":
    case "removal": // ending live grants by deletion belongs to the revocation flow
      return NOTHING;
    case "policy-change":
      return decidePolicyChange(s, teamMember);
    default:
      // A merged request is judged as of its merge: evaluated late (after downtime), it has not "timed out".
      if (s.pr.merged) return decideMerged(s, now, teamMember, () => judgeRequest(s, s.pr.mergedAt ? new Date(s.pr.mergedAt) : now, teamMember));
      if (s.pr.state === "closed") return decideClosedUnmerged(s);
      return decideOpenRequest(s, judgeRequest(s, now, teamMember));
  }
}

function decideClosedUnmerged(s: RequestSnapshot): Decision {
  const previous = s.record?.status ?? null;
  const note = "This pull request was closed without merging: the request is rejected and nothing was granted.";
  const grant = s.record?.grant;
  const body = previous === "REJECTED" ? undefined : statusComment(s, "❌ Rejected", { ...(grant ? { grant } : {}), note }, { status: "REJECTED", ...(grant ? { grant } : {}), ended_by: "closed without merging" });
  return { status: "REJECTED", label: STATUS_LABELS.REJECTED, ...(body ? { comment: body } : {}), actions: [] };
}

function decideOpenRequest(s: RequestSnapshot, j: Judgement): Decision {
  // Final means final (invariant 7): a rejection the record holds stands, even after the rejecting
  // review or comment is deleted or dismissed; the PR is closed again if someone reopened it.
  if (s.record?.status === "REJECTED") {
    return { status: "REJECTED", label: STATUS_LABELS.REJECTED, actions: s.pr.state === "open" ? [{ type: "close" }] : [] };
  }
  switch (j.verdict) {
    case "broken-policy": {
      const summary = `The policy on ${s.defaultBranch} is broken, so every request fails closed until it is fixed.\n\n${errorList(j.diagnostics)}`;
      return {
        status: null,
        label: null,
        check: completed("failure", "The access policy is broken", summary, j.diagnostics),
        comment: statusComment(s, "⛔ The access policy is broken", { errors: j.diagnostics, note: `Fix ${POLICY_PATH} on ${s.defaultBranch}; this request will be checked again on its next change.` }, { status: null }),
        actions: [],
      };
    }
    case "invalid":
      return {
        status: null,
        label: null,
        check: completed("failure", `The request has ${count(j.diagnostics, "problem")}`, errorList(j.diagnostics), j.diagnostics),
        comment: statusComment(s, "⚠️ Invalid request", { grant: j.grant, errors: j.diagnostics, note: "Push a fix to this branch; the request is checked again on every change." }, { status: null }),
        actions: [],
      };
    case "no-approvers":
      return {
        status: null,
        label: null,
        check: completed("failure", "No approvers mapped", `${errorList(j.diagnostics)}\n\n${warningList(codeownersWarnings(s))}`.trim(), j.diagnostics),
        comment: statusComment(s, "⛔ No approvers mapped", { grant: j.grant, errors: j.diagnostics, note: "Nobody can approve this request, so it cannot proceed. Add an owner for this path to CODEOWNERS." }, { status: null }),
        actions: [],
      };
    case "rejected": {
      const note = `Rejected by ${j.by}: ${j.reason}. Nothing was granted.`;
      return {
        status: "REJECTED",
        label: STATUS_LABELS.REJECTED,
        check: completed("failure", "Rejected", `${note}\n\n${progressSummary(j.grant, j.requirement, j.outcome)}`, []),
        comment: statusComment(s, "❌ Rejected", { grant: j.grant, approvals: { requirement: j.requirement, outcome: j.outcome }, note }, { status: "REJECTED", grant: j.grant, ended_by: `rejected by ${j.by}: ${j.reason}` }),
        actions: [{ type: "close" }],
      };
    }
    case "pending":
      return {
        status: "PENDING",
        label: STATUS_LABELS.PENDING,
        check: { status: "in_progress", title: "Waiting for approvals", summary: progressSummary(j.grant, j.requirement, j.outcome, codeownersWarnings(s)), annotations: [] },
        comment: statusComment(s, "⏳ Waiting for approvals", { grant: j.grant, approvals: { requirement: j.requirement, outcome: j.outcome } }, { status: "PENDING", grant: j.grant, waiting_for: j.outcome.groups.filter((g) => !g.satisfied).map((g) => g.group) }),
        actions: [],
      };
    case "approved": {
      const auto = j.role.merge === "auto";
      const note = s.pr.draft
        ? "Approved. Mark the pull request ready for review to merge it."
        : auto
          ? "Approved: jit-access merges this pull request and then applies the grant."
          : "Approved. The policy leaves merging to a person (merge: manual); the grant is applied when it is merged.";
      const actions: Action[] = auto && !s.pr.draft ? [mergeAction(s, j.grant, j.outcome)] : [];
      return {
        status: "PENDING",
        label: STATUS_LABELS.PENDING,
        check: completed("success", "Approved", progressSummary(j.grant, j.requirement, j.outcome, codeownersWarnings(s)), []),
        comment: statusComment(s, "✅ Approved", { grant: j.grant, approvals: { requirement: j.requirement, outcome: j.outcome }, note }, { status: "PENDING" }),
        actions,
      };
    }
  }
}

/**
 * The merge is pinned to the approved head SHA (GitHub refuses it if the branch moved) and its
 * commit message carries trailers, so git history alone tells who asked and who approved.
 */
function mergeAction(s: RequestSnapshot, grant: Grant, outcome: ApprovalOutcome): Action {
  const approvers = [...new Set(outcome.groups.flatMap((g) => g.approvedBy))];
  const trailers = [
    `Jit-Requester: ${grant.requester}`,
    `Jit-Access: ${grant.resource}/${grant.role}`,
    `Jit-Duration: ${grant.duration}`,
    ...(outcome.autoApprovedBy ? [`Jit-Auto-Approved-By: ${outcome.autoApprovedBy}`] : []),
    ...approvers.map((a) => `Jit-Approved-By: ${a}`),
    ...(grant.emergency ? ["Jit-Break-Glass: true"] : []),
  ];
  return {
    type: "merge",
    sha: s.pr.headSha,
    title: `jit: ${grant.requester} → ${grant.resource}/${grant.role} for ${grant.duration} (#${s.pr.number})`,
    message: trailers.join("\n"),
  };
}

