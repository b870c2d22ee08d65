import type { Grant } from "../schemas/grant.js";

/**
 * The grant's record: what the app believes about one request, as plain data. It lives in this
 * app's `jit-access` check run (see github/record-store.ts), written in the text format that only
 * lifecycle/codec.ts knows. Decisions (lifecycle/decide.ts) compute the next record and the effects
 * to perform; lifecycle/settle.ts folds each effect's outcome into it; present/ draws it.
 *
 * Statuses beyond the five public ones are internal steps of an approved grant, shown with the
 * `jit:pending` label: SCHEDULED (merged, waits for `start`) and APPLYING (merged, the provider
 * has not confirmed yet; retried with backoff).
 */
export type StateStatus = "PENDING" | "SCHEDULED" | "APPLYING" | "APPROVED" | "REJECTED" | "REVOKED" | "EXECUTED";

export interface GrantRecord {
  v: 1;
  status: StateStatus | null;
  /** The grant file and its blob: the exact content the record refers to. */
  path?: string;
  blob?: string;
  /** What was approved, recorded at merge so later steps need not re-read the file. */
  grant?: Grant;
  /**
   * The requester's GitHub user id (the PR author's, which the requester must be), recorded at
   * merge: a login can be renamed and then taken by someone else, an id cannot. Absent from
   * records written before it was added.
   */
  requester_id?: number;
  /** Units of access the requester held before this grant was applied: never revoked. */
  standing?: string[];
  /**
   * The record was lost or never written before this merged request was handled: it may already
   * have been applied, so nothing the target shows counts as standing (see lifecycle/merged.ts).
   */
  standing_unknown?: boolean;
  starts_at?: string;
  expires_at?: string;
  applied_at?: string;
  /** What the provider said it did when it applied the grant, for people ("add alice to acme/ops"). */
  access?: string;
  /** Failed provider attempts so far, the next one, and the last error (secrets redacted). */
  attempts?: number;
  next_attempt_at?: string;
  error?: string;
  revert_pr?: number;
  /**
   * The grant's id at its target (the providers' idempotency key, the webhook's `id`), fixed when
   * it is first applied: a repository renamed later must not change what a revoke names.
   */
  grant_id?: string;
  /** Where the access lives, recorded when applied, so it can be revoked even if the policy changes later. Names of environment variables only. */
  target?: { provider: string; config: Record<string, unknown>; grant: Record<string, unknown> };
  /** True while the revert PR recording the end has not been merged; what it must delete. */
  revert_pending?: boolean;
  revert_path_blob?: [string, string];
  /** Whose approvals counted (they may `/jit revoke`), and when the requester is warned. */
  approvers?: string[];
  warn_at?: string;
  warned_at?: string;
  /** The end: when access was actually taken away, and why. */
  revoked_at?: string;
  ended_by?: string;
  /**
   * An end that was decided but whose revoke has not succeeded yet: retries carry it out whatever
   * happens meanwhile to the comment or review that asked for it (deleted, edited, dismissed).
   */
  ending?: End;
  /** Failed revokes: retried with backoff, never reported as done. */
  revoke_attempts?: number;
  next_revoke_at?: string;
  revoke_error?: string;
  /** While pending: the approver groups still missing (for `jit status`). */
  waiting_for?: string[];
  /** Notification events already sent for this request: each goes out once. */
  notified?: string[];
  /** Where a rejection came from, for people and notifications. */
  rejected_by?: string;
  /**
   * Refused `/jit revoke` comments: every one up to this comment id has been counted (comment ids
   * only grow), so none is answered twice and the record stays the same size however many come.
   */
  answered_through?: number;
  /** How many were refused in all. */
  refused_count?: number;
  /** @deprecated records written before `answered_through`: the ids answered one by one. */
  answered?: number[];
  /** Who withdrew a merged grant before it started (`/jit revoke` on a scheduled grant). */
  withdrawn_by?: string;
  /** Requests verified to extend this grant from its end (see lifecycle/extension.ts): linked from the comment. */
  extended_by?: number[];
}

/** @deprecated the older name of GrantRecord, from when the record lived in the status comment. */
export type CommentState = GrantRecord;

/** How a live grant ends: what it becomes, why, and whether a revert PR records it in git history. */
export interface End {
  status: "EXECUTED" | "REVOKED";
  endedBy: string;
  revert: boolean;
}

export const SETTLED: readonly StateStatus[] = ["APPROVED", "REJECTED", "REVOKED", "EXECUTED"];

/**
 * How base-branch.ts's rejection of a request merged outside the default branch begins its
 * `ended_by`: a verdict on the merge itself, final, with nothing on the default branch to revert
 * (never a rejection from before the merge that the merge bypassed).
 */
export const MERGED_OUTSIDE = "merged into ";

/** Statuses the loader can decide from without re-judging (no reviews, memberships or grant file needed). */
export function decidedFromState(state: GrantRecord | undefined): boolean {
  return !!state?.status && (SETTLED.includes(state.status) || ((state.status === "SCHEDULED" || state.status === "APPLYING") && !!state.grant));
}

/** Whether a refused command was already counted (and answered) by an earlier evaluation. */
export function wasAnswered(record: GrantRecord | undefined, commentId: number): boolean {
  return commentId <= (record?.answered_through ?? 0) || (record?.answered?.includes(commentId) ?? false);
}
