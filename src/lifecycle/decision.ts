import type { ApprovalOutcome, Requirement } from "../approval/evaluate.js";
import type { Diagnostic } from "../diagnostics.js";
import type { AccessPlan } from "../plan/types.js";
import type { GrantTarget } from "../providers/types.js";
import type { Grant } from "../schemas/grant.js";
import type { End, GrantRecord } from "./record.js";
import type { Status, StatusLabel } from "./status.js";

/**
 * What one evaluation decides, as plain data: the next record, the effects to perform, and what
 * the displays should show. Nothing here renders text or holds a function: the shell performs the
 * effects, folds each outcome into the record (lifecycle/settle.ts), and present/ draws the
 * comment, the check and the notifications from the record and the views afterwards.
 */
export interface Decision {
  status: Status | null;
  /**
   * The record after this decision, before any effect: what each effect's outcome is folded into
   * (lifecycle/settle.ts). Undefined: the record stays as it is.
   */
  record?: GrantRecord;
  /** How to draw the status comment from the record; undefined: the display is left as it is (until an effect changes the record). */
  view?: CommentView;
  /** The `jit-access` check the decision wants (drawn by present/check.ts). */
  check?: CheckView;
  /** The one status label to carry (null: none of ours; undefined: leave the labels as they are). */
  label?: StatusLabel | null;
  effects: Effect[];
  /** Something security must hear about (a policy bypass): logged at error level. */
  alert?: string;
  /** What kind of alert (`onAlert`'s first argument): "bypass" unless said otherwise. */
  alertKind?: "bypass" | "tamper";
}

export interface ApprovalsView {
  requirement: Requirement;
  outcome: ApprovalOutcome;
}

/**
 * How the status comment presents the record. An open request is shown by its judgement; a merged
 * one is drawn from its record alone (`record`), except a merge that bypassed the policy.
 */
export type CommentView =
  | { kind: "broken-policy"; errors: Diagnostic[] }
  | { kind: "untrusted-policy"; errors: Diagnostic[] }
  | { kind: "invalid"; grant?: Grant; errors: Diagnostic[] }
  | { kind: "no-approvers"; grant: Grant; errors: Diagnostic[] }
  | { kind: "rejected"; grant: Grant; approvals: ApprovalsView; by: string; reason: string }
  | { kind: "vetoed"; grant?: Grant; errors: Diagnostic[]; by: string; reason: string }
  | { kind: "pending"; grant: Grant; approvals: ApprovalsView }
  | { kind: "approved"; grant: Grant; approvals: ApprovalsView; merge: "draft" | "auto" | "manual" }
  | { kind: "closed" }
  | { kind: "off-default"; errors: Diagnostic[]; base: string }
  | { kind: "merged-outside"; error: Diagnostic; base: string }
  | { kind: "bypassed" }
  | { kind: "record" };

/** The `jit-access` check run, as data. */
export type CheckView =
  | { kind: "broken-policy"; errors: Diagnostic[] }
  | { kind: "untrusted-policy"; errors: Diagnostic[] }
  | { kind: "invalid"; errors: Diagnostic[] }
  | { kind: "no-approvers"; errors: Diagnostic[]; warnings: Diagnostic[] }
  | { kind: "rejected"; grant: Grant; approvals: ApprovalsView; by: string; reason: string }
  | { kind: "vetoed"; errors: Diagnostic[]; by: string; reason: string }
  | { kind: "pending" | "approved"; grant: Grant; approvals: ApprovalsView; warnings: Diagnostic[] }
  | { kind: "off-default"; errors: Diagnostic[] }
  | { kind: "policy-invalid"; errors: Diagnostic[] }
  | { kind: "policy-no-approvers"; errors: Diagnostic[] }
  | {
      kind: "policy-approved" | "policy-waiting";
      resources: number;
      codeownersPath: string;
      codeownersChanged: string[];
      approvals: ApprovalsView;
      warnings: Diagnostic[];
      /** What the change does to access, against the default branch. */
      plan: AccessPlan;
      /** The policy lines that widen access (annotated as warnings). */
      widening: Diagnostic[];
      /** `changes.widening_requires` of the default branch's policy, when the change widens access: approvers besides the owners. */
      wideningRequires: string[];
    };

/** A provider action's window and where the access lives: what the record keeps once it is applied. */
export interface ApplyPlan {
  target: GrantTarget;
  /** Units held before the grant, when an earlier attempt already recorded them. */
  standing: string[] | undefined;
  /**
   * Whether what the target shows before the apply may count as held before the grant. Not for a
   * merged request whose record was lost: it may have been applied already, and its own access
   * must never read as standing (it is recorded as none, and taken away at its end).
   */
  standingFromTarget?: false;
  /** The requester is warned this long before the end. */
  warnBeforeMs: number;
}

/** A revert PR that deletes a grant file: the app's record of an end (or of a bypass) in git history. */
export interface RevertPlan {
  branch: string;
  path: string;
  blobSha: string;
  /** Why it is opened: the end of a grant, a bypass of the policy, or a retry of either. */
  purpose: "end" | "bypass" | "follow-up";
}

/** Effects are data: the shell performs them in order, most urgent first (see github/execute.ts). */
export type Effect =
  /** Merge the approved head (pinned: GitHub refuses it if the branch moved), with trailers. */
  | { type: "merge"; sha: string; grant: Grant; approvers: string[]; autoApprovedBy?: string }
  | { type: "close" }
  /** Apply through the provider: record what is held first, then apply, then record the outcome. */
  | ({ type: "apply" } & ApplyPlan)
  /**
   * Take access away: the shell finds the other live grants, revokes only the units none of them
   * (nor standing access) still gives, records the end, then opens the revert PR.
   */
  | { type: "revoke"; target: GrantTarget; standing: string[]; end: End; revert: RevertPlan | undefined }
  /** Open (once: the branch name is deterministic) and merge a PR that deletes the grant file. */
  | ({ type: "revert" } & RevertPlan)
  /** Tell someone their `/jit revoke` was refused, and who may revoke. */
  | { type: "reply"; to: string; refused: "revoke"; requester: string; approvers: string[]; admins: string[] }
  /** Warn the requester before the end; at most once across replicas (recorded before it is posted). */
  | { type: "warn" };
