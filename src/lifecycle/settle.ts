import type { ApplyPlan, RevertPlan } from "./decision.js";
import type { End, GrantRecord } from "./record.js";
import { nextAttemptAt } from "./window.js";

/**
 * What an effect's outcome makes of the record (pure). The shell performs an effect, then asks
 * here for the record to write: nothing about an outcome is decided anywhere else.
 */

/** What the record keeps about the request whatever step it is at. */
function kept(r: GrantRecord) {
  return {
    ...(r.path !== undefined ? { path: r.path, blob: r.blob } : {}),
    ...(r.notified?.length ? { notified: r.notified } : {}),
    ...(r.extended_by ? { extended_by: r.extended_by } : {}),
    ...(r.requester_id !== undefined ? { requester_id: r.requester_id } : {}),
    ...(r.standing_unknown ? { standing_unknown: true } : {}),
  };
}

function base(r: GrantRecord) {
  return { v: 1 as const, grant: r.grant, status: r.status, ...(r.approvers ? { approvers: r.approvers } : {}), ...kept(r) };
}

function grantId(plan: ApplyPlan) {
  return { grant_id: plan.target.id };
}

function targetOf(plan: ApplyPlan) {
  return { provider: plan.target.provider, config: plan.target.config, grant: plan.target.grant };
}

function attemptFields(r: GrantRecord) {
  return r.attempts ? { attempts: r.attempts, next_attempt_at: r.next_attempt_at, error: r.error } : {};
}

/** Before anything is applied: what the requester already holds is recorded, so a revoke never takes it. */
export function settleHolding(r: GrantRecord, plan: ApplyPlan, standing: string[]): GrantRecord {
  return {
    ...base(r), status: "APPLYING", standing, target: targetOf(plan), ...grantId(plan),
    starts_at: plan.target.startsAt, expires_at: plan.target.expiresAt, ...attemptFields(r),
  };
}

/** The provider confirmed: access is live until the planned end, whenever it was applied. */
export function settleApplied(r: GrantRecord, plan: ApplyPlan, outcome: { at: Date; standing: string[]; access: string }): GrantRecord {
  const warnAt = new Date(Date.parse(plan.target.expiresAt) - plan.warnBeforeMs);
  return {
    ...base(r),
    status: "APPROVED",
    standing: outcome.standing,
    applied_at: outcome.at.toISOString(),
    access: outcome.access,
    starts_at: plan.target.startsAt,
    expires_at: plan.target.expiresAt,
    ...(warnAt > outcome.at ? { warn_at: warnAt.toISOString() } : {}),
    target: targetOf(plan),
    ...grantId(plan),
  };
}

/** Not applied: shown with the provider's error, retried with backoff, never reported as APPROVED. */
export function settleApplyFailed(r: GrantRecord, plan: ApplyPlan | undefined, outcome: { message: string; standing: string[] | undefined }, now: Date): GrantRecord {
  const st: GrantRecord = outcome.standing && plan
    ? { ...r, standing: outcome.standing, target: targetOf(plan), ...grantId(plan), starts_at: plan.target.startsAt, expires_at: plan.target.expiresAt }
    : r;
  const attempts = (st.attempts ?? 0) + 1;
  return {
    v: 1, grant: st.grant, status: "APPLYING", ...(st.approvers ? { approvers: st.approvers } : {}), ...kept(st),
    ...(st.standing ? { standing: st.standing } : {}), ...(st.target ? { target: st.target } : {}), ...(st.grant_id ? { grant_id: st.grant_id } : {}),
    ...(st.starts_at && st.expires_at ? { starts_at: st.starts_at, expires_at: st.expires_at } : {}),
    attempts, next_attempt_at: nextAttemptAt(attempts, now).toISOString(), error: outcome.message,
  };
}

/** Access is gone: the end is recorded (its revert PR, if any, follows and is recorded with `revert`). */
export function settleRevoked(r: GrantRecord, end: End, revert: RevertPlan | undefined, outcome: { at: Date; revertPr?: { number: number; merged: boolean } }): GrantRecord {
  const state: GrantRecord = {
    ...r,
    status: end.status,
    revoked_at: outcome.at.toISOString(),
    ended_by: end.endedBy,
    ...(outcome.revertPr?.number ? { revert_pr: outcome.revertPr.number } : {}),
    revert_pending: !!revert && !outcome.revertPr?.merged,
    ...(revert ? { revert_path_blob: [revert.path, revert.blobSha] as [string, string] } : {}),
  };
  delete state.revoke_error;
  delete state.next_revoke_at;
  delete state.ending;
  return state;
}

/** The revoke failed: the end stands and is retried with backoff; the access is still live meanwhile. */
export function settleRevokeFailed(r: GrantRecord, end: End, message: string, now: Date): GrantRecord {
  const attempts = (r.revoke_attempts ?? 0) + 1;
  return { ...r, ending: end, revoke_attempts: attempts, next_revoke_at: nextAttemptAt(attempts, now).toISOString(), revoke_error: message };
}

/** A revert PR (of a bypass, or a retry of one that did not merge) was opened or found; merged or not. */
export function settleReverted(r: GrantRecord, plan: RevertPlan, outcome: { number: number; merged: boolean }): GrantRecord {
  return {
    ...r,
    ...(outcome.number ? { revert_pr: outcome.number } : {}),
    revert_pending: !outcome.merged,
    ...(plan.purpose === "bypass" ? { revert_path_blob: [plan.path, plan.blobSha] as [string, string] } : {}),
  };
}
