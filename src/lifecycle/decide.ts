import type { ApprovalOutcome, MembershipLookup } from "../approval/evaluate.js";
import type { Grant } from "../schemas/grant.js";
import { decideOffDefaultBranch, judgedOffDefaultBranch } from "./base-branch.js";
import { completeRecord } from "./complete.js";
import type { Decision, Effect } from "./decision.js";
import { judgeRequest, type Judgement } from "./judge.js";
import { decideMerged } from "./merged.js";
import { decidePolicyChange } from "./policy-change.js";
import { refuseUntrustedPolicy } from "./provenance.js";
import type { RequestSnapshot } from "./snapshot.js";
import { STATUS_LABELS } from "./status.js";

export type { Decision, Effect } from "./decision.js";

const NOTHING: Decision = { status: null, effects: [] };

/**
 * The next step of one request (pure): from the snapshot of GitHub's state and the clock, the
 * record to write, the effects to perform and what to show. See lifecycle/decision.ts.
 */
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
  const grant = s.record?.grant;
  if (s.record?.status === "REJECTED") return { status: "REJECTED", label: STATUS_LABELS.REJECTED, effects: [] };
  const record = completeRecord(s, { status: "REJECTED", ...(grant ? { grant } : {}), ended_by: "closed without merging" });
  return { status: "REJECTED", label: STATUS_LABELS.REJECTED, record, view: { kind: "closed" }, effects: [] };
}

function decideOpenRequest(s: RequestSnapshot, j: Judgement): Decision {
  // Final means final (invariant 7): a rejection the record holds stands, even after the rejecting
  // review or comment is deleted or dismissed; the PR is closed again if someone reopened it.
  if (s.record?.status === "REJECTED") {
    return { status: "REJECTED", label: STATUS_LABELS.REJECTED, effects: s.pr.state === "open" ? [{ type: "close" }] : [] };
  }
  const warnings = s.codeowners?.problems ?? [];
  const untrusted = refuseUntrustedPolicy(s); // policy provenance: before any verdict (lifecycle/provenance.ts)
  if (untrusted) return untrusted;
  switch (j.verdict) {
    case "broken-policy":
      return { status: null, label: null, check: { kind: "broken-policy", errors: j.diagnostics }, record: completeRecord(s, { status: null }), view: { kind: "broken-policy", errors: j.diagnostics }, effects: [] };
    case "invalid":
      return { status: null, label: null, check: { kind: "invalid", errors: j.diagnostics }, record: completeRecord(s, { status: null }), view: { kind: "invalid", ...(j.grant ? { grant: j.grant } : {}), errors: j.diagnostics }, effects: [] };
    case "no-approvers":
      return { status: null, label: null, check: { kind: "no-approvers", errors: j.diagnostics, warnings }, record: completeRecord(s, { status: null }), view: { kind: "no-approvers", grant: j.grant, errors: j.diagnostics }, effects: [] };
    case "rejected": {
      const approvals = { requirement: j.requirement, outcome: j.outcome };
      return {
        status: "REJECTED",
        label: STATUS_LABELS.REJECTED,
        check: { kind: "rejected", grant: j.grant, approvals, by: j.by, reason: j.reason },
        record: completeRecord(s, { status: "REJECTED", grant: j.grant, ended_by: `rejected by ${j.by}: ${j.reason}` }),
        view: { kind: "rejected", grant: j.grant, approvals, by: j.by, reason: j.reason },
        effects: [{ type: "close" }],
      };
    }
    case "vetoed":
      return {
        status: "REJECTED",
        label: STATUS_LABELS.REJECTED,
        check: { kind: "vetoed", errors: j.diagnostics, by: j.by, reason: j.reason },
        record: completeRecord(s, { status: "REJECTED", ...(j.grant ? { grant: j.grant } : {}), ended_by: `rejected by ${j.by}: ${j.reason}`, rejected_by: j.by }),
        view: { kind: "vetoed", ...(j.grant ? { grant: j.grant } : {}), errors: j.diagnostics, by: j.by, reason: j.reason },
        effects: [{ type: "close" }],
      };
    case "pending": {
      const approvals = { requirement: j.requirement, outcome: j.outcome };
      return {
        status: "PENDING",
        label: STATUS_LABELS.PENDING,
        check: { kind: "pending", grant: j.grant, approvals, warnings },
        record: completeRecord(s, { status: "PENDING", grant: j.grant, waiting_for: j.outcome.groups.filter((g) => !g.satisfied).map((g) => g.group) }),
        view: { kind: "pending", grant: j.grant, approvals },
        effects: [],
      };
    }
    case "approved": {
      const auto = j.role.merge === "auto";
      const approvals = { requirement: j.requirement, outcome: j.outcome };
      return {
        status: "PENDING",
        label: STATUS_LABELS.PENDING,
        check: { kind: "approved", grant: j.grant, approvals, warnings },
        record: completeRecord(s, { status: "PENDING" }),
        view: { kind: "approved", grant: j.grant, approvals, merge: s.pr.draft ? "draft" : auto ? "auto" : "manual" },
        effects: auto && !s.pr.draft ? [mergeEffect(s, j.grant, j.outcome)] : [],
      };
    }
  }
}

/** The merge is pinned to the approved head SHA (GitHub refuses it if the branch moved). */
function mergeEffect(s: RequestSnapshot, grant: Grant, outcome: ApprovalOutcome): Effect {
  const approvers = [...new Set(outcome.groups.flatMap((g) => g.approvedBy))];
  return { type: "merge", sha: s.pr.headSha, grant, approvers, ...(outcome.autoApprovedBy ? { autoApprovedBy: outcome.autoApprovedBy } : {}) };
}
