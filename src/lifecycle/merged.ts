import type { MembershipLookup } from "../approval/evaluate.js";
import type { GrantTarget } from "../providers/types.js";
import type { Grant } from "../schemas/grant.js";
import { completeRecord } from "./complete.js";
import type { Decision } from "./decision.js";
import type { Judgement } from "./judge.js";
import { decideLive, revokeEffect } from "./live.js";
import { decidedFromState, MERGED_OUTSIDE, SETTLED, type GrantRecord } from "./record.js";
import { grantIdOf, type RequestSnapshot } from "./snapshot.js";
import { labelOf, STATUS_LABELS, type Status } from "./status.js";
import { untrustedPolicy } from "./provenance.js";
import { revokeRequests, withCounts } from "./revoke-commands.js";
import { settleApplyFailed } from "./settle.js";
import { EARLY_START_MS, planWindow } from "./window.js";

/**
 * A merged request (docs/reference/statuses.md; docs/reference/invariants.md, invariant 2): nothing is applied that the policy
 * did not approve. The first evaluation after the merge re-judges the merged content; its
 * verdict is recorded (SCHEDULED or APPLYING), so retries and scheduled starts later work from
 * that record and never re-read reviews.
 */
export function decideMerged(s: RequestSnapshot, now: Date, teamMember: MembershipLookup, judge: () => Judgement): Decision {
  const st = s.record;
  if (st?.status === "APPROVED" && st.grant && st.target) return decideLive(s, st, now, teamMember);
  if (st?.revert_pending && st.revert_path_blob !== undefined) return revertFollowUp(s, st);
  if (st?.status === "REJECTED" && st.revert_pr === undefined && !st.revert_path_blob && !st.ended_by?.startsWith(MERGED_OUTSIDE)) {
    // Rejected before the merge (an approver, a timeout, a reopen): whoever merged it bypassed that.
    const j = judge();
    return bypassed(s, j.verdict === "approved" ? { ...j, verdict: "rejected", by: st.rejected_by ?? "jit-access", reason: st.ended_by ?? "it had been rejected" } : j);
  }
  if (st?.status && SETTLED.includes(st.status)) {
    // Already decided: only keep the label true (someone may have edited labels by hand).
    return { status: st.status as Status, label: labelOf(st.status), effects: [] };
  }
  if (decidedFromState(st)) return applyStep(s, st!.grant!, st!, now, teamMember);

  // Judged by a policy or CODEOWNERS that did not come through a PR this app approved: whatever
  // they say, nothing is applied (lifecycle/provenance.ts), and the merge is reverted like a bypass.
  const untrusted = untrustedPolicy(s);
  if (untrusted) return { ...bypassed(s, judge(), "the access policy on the default branch is not trusted"), alert: untrusted.alert, alertKind: "tamper" };
  const j = judge();
  if (j.verdict !== "approved") return bypassed(s, j);
  const approvers = [...new Set(j.outcome.groups.flatMap((g) => g.approvedBy))];
  // No record, but a run of this app on the head: the record was lost or cannot be read. No run at
  // all (every page read): the app never wrote one here, so it never applied this grant (an apply
  // always records what is held first), and this is its first sight of the request.
  if (!st && s.check) return recordMissing(s, j.grant, approvers, now, teamMember);
  // What it gives is fixed here, from the policy that judged the merge: a retry never re-reads it
  // from a policy changed since (applyStep refuses a target that no longer matches).
  const approved = roleTarget(s, j.grant);
  return applyStep(s, j.grant, { v: 1, status: "APPLYING", grant: j.grant, approvers, requester_id: s.pr.authorId, ...(approved ? { target: approved } : {}) }, now, teamMember);
}

/**
 * Missing means applied (invariant 10). A merged request with a run of this app on its head but
 * no readable record there may have been applied (the record was lost or misread): it is treated
 * as applied — its own access never reads as standing, and it is revoked by its window's end —
 * and security hears of it. Never "nothing was granted".
 */
function recordMissing(s: RequestSnapshot, grant: Grant, approvers: string[], now: Date, teamMember: MembershipLookup): Decision {
  const alert = `tamper: no record of ${s.owner}/${s.repo}#${s.pr.number} was found although it was merged: treated as applied (nothing it may have given counts as standing) and revoked by the end of its window`;
  const approved = roleTarget(s, grant);
  const base: GrantRecord = { v: 1, status: "APPLYING", grant, approvers, standing_unknown: true, ...(s.pr.authorId !== undefined ? { requester_id: s.pr.authorId } : {}), ...(approved ? { target: approved } : {}) };
  const planned = planWindow(grant, mergedAt(s, now));
  const role = s.policy.ok ? s.policy.policy.role(grant.resource, grant.role) : undefined;
  if (planned.expiresAt <= now && role) {
    // Over: whatever it may have given is taken away now (a revoke of what is not there changes nothing).
    const attempted = completeRecord(s, {
      ...base, standing: [], target: { provider: role.provider, config: role.config, grant: role.grant },
      starts_at: planned.startsAt.toISOString(), expires_at: planned.expiresAt.toISOString(), applied_at: planned.startsAt.toISOString(),
    });
    return { status: "PENDING", record: attempted, alert, alertKind: "tamper", effects: [revokeEffect(s, attempted, { status: "EXECUTED", endedBy: "its window ended; its record had been lost, so it was treated as applied", revert: true })] };
  }
  return { ...applyStep(s, grant, base, now, teamMember), alert, alertKind: "tamper" };
}

/**
 * The window is fixed by immutable facts (invariant 8): the merge time and the grant file. A
 * redelivered merge, a restart or a late apply never starts a second window, and a grant applied
 * late still ends when it was planned to.
 */
function mergedAt(s: RequestSnapshot, now: Date): Date {
  return s.pr.mergedAt ? new Date(s.pr.mergedAt) : now;
}

/** Merged although the policy was not met (an admin bypassed branch protection, a race): apply nothing. */
function bypassed(s: RequestSnapshot, j: Judgement, reason?: string): Decision {
  const why =
    reason ??
    (j.verdict === "pending" ? "the required approvals were not complete"
    : j.verdict === "rejected" || j.verdict === "vetoed" ? `it was rejected (${j.reason})`
    : j.verdict === "no-approvers" ? "no approvers are mapped to its path"
    : j.verdict === "broken-policy" ? "the access policy is broken"
    : "the request is invalid");
  const grant = "grant" in j ? j.grant : undefined;
  const record = completeRecord(s, { status: "REJECTED", ...(grant ? { grant } : {}), ended_by: `merged although ${why}` });
  return {
    status: "REJECTED",
    label: STATUS_LABELS.REJECTED,
    record,
    view: { kind: "bypassed" },
    alert: `policy bypass: ${s.owner}/${s.repo}#${s.pr.number} was merged although ${why}; nothing was applied`,
    effects: s.kind.kind === "request"
      ? [{ type: "revert", branch: revertBranch(s), path: s.kind.file.path, blobSha: s.kind.file.blobSha, purpose: "bypass" }]
      : [],
  };
}

export function revertBranch(s: RequestSnapshot): string {
  return `jit-access/revert-${s.pr.number}`;
}

/** Merged, the policy met: wait for `start`, back off after a failure, or apply now. */
function applyStep(s: RequestSnapshot, grant: Grant, st: GrantRecord, now: Date, teamMember: MembershipLookup): Decision {
  const base = { grant, status: st.status, ...(st.approvers ? { approvers: st.approvers } : {}), ...(st.standing_unknown ? { standing_unknown: true } : {}), ...(st.requester_id !== undefined ? { requester_id: st.requester_id } : {}) } as const;
  const planned = planWindow(grant, mergedAt(s, now));
  const window = { starts_at: planned.startsAt.toISOString(), expires_at: planned.expiresAt.toISOString() };
  if (s.grantOnDefaultBranch === false) {
    // Its file left the default branch before the grant was applied (a merged deletion): it never starts.
    const endedBy = `its grant file was removed from ${s.defaultBranch} before it was applied`;
    if (st.standing !== undefined && st.target) {
      // An apply was attempted: whatever it may have given is taken away.
      const attempted = completeRecord(s, { ...st, ...window, applied_at: st.applied_at ?? window.starts_at });
      return { status: "PENDING", record: attempted, effects: [revokeEffect(s, attempted, { status: "REVOKED", endedBy, revert: false })] };
    }
    return { status: "REVOKED", label: STATUS_LABELS.REVOKED, record: completeRecord(s, { ...base, status: "REVOKED", ended_by: endedBy }), view: { kind: "record" }, effects: [] };
  }
  if (planned.startsAt.getTime() - EARLY_START_MS > now.getTime()) {
    // Not started: an eligible `/jit revoke` written since the merge withdraws it, and nothing is ever applied.
    const asked = revokeRequests(s, { ...st, grant }, mergedAt(s, now).getTime(), teamMember, true);
    if (asked.revoke && st.standing === undefined) {
      const withdrawn = completeRecord(s, withCounts({ ...base, status: "REVOKED", ...window, withdrawn_by: asked.revoke.login, ended_by: `withdrawn by ${asked.revoke.login} before it started${asked.revoke.reason ? `: ${asked.revoke.reason}` : ""}` }, asked.counted));
      return { status: "REVOKED", label: STATUS_LABELS.REVOKED, record: withdrawn, view: { kind: "record" }, effects: [] };
    }
    // What it will give is fixed now, from the policy that judged it: the policy on the default
    // branch at its start may say otherwise (applyStep refuses then), never widen it.
    const approved = st.target ?? roleTarget(s, grant);
    const scheduled = completeRecord(s, withCounts({ ...base, status: "SCHEDULED", ...window, ...counters(st), ...(approved ? { target: approved } : {}) }, asked.counted));
    return { status: "PENDING", label: STATUS_LABELS.PENDING, record: scheduled, view: { kind: "record" }, effects: asked.replies };
  }
  if (planned.expiresAt <= now && st.standing !== undefined && st.target) {
    // An apply was attempted (its standing access is recorded) and never confirmed: part of it may
    // have reached the target. The window is over, so whatever it gave is taken away.
    const attempted = completeRecord(s, { ...st, ...window, applied_at: st.applied_at ?? window.starts_at });
    return { status: "PENDING", record: attempted, effects: [revokeEffect(s, attempted, { status: "EXECUTED", endedBy: "its window ended before the provider confirmed the grant", revert: true })] };
  }
  if (planned.expiresAt <= now) {
    return { status: "EXECUTED", label: STATUS_LABELS.EXECUTED, record: completeRecord(s, { ...base, status: "EXECUTED", expires_at: window.expires_at }), view: { kind: "record" }, effects: [] };
  }
  if (st.next_attempt_at && Date.parse(st.next_attempt_at) > now.getTime()) return { status: "PENDING", effects: [] };

  const record = completeRecord(s, { ...st });
  const role = s.policy.ok ? s.policy.policy.role(grant.resource, grant.role) : undefined;
  if (!role) {
    // Recorded as a failed attempt: retried with backoff, never applied from a policy that lacks the role.
    const error = `the policy on ${s.defaultBranch} no longer has ${grant.resource}/${grant.role}, or is broken`;
    return { status: "PENDING", label: STATUS_LABELS.PENDING, record: settleApplyFailed(record, undefined, { message: error, standing: undefined }, now), view: { kind: "record" }, effects: [] };
  }
  const current = roleTarget(s, grant)!;
  if (st.target && !sameTarget(st.target, current)) {
    // Approved to give one thing, the policy now says another: neither is applied (fail closed).
    const error = `the policy on ${s.defaultBranch} changed what ${grant.resource}/${grant.role} gives since this grant was approved; it is not applied`;
    return { status: "PENDING", label: STATUS_LABELS.PENDING, record: settleApplyFailed(record, undefined, { message: error, standing: undefined }, now), view: { kind: "record" }, effects: [], alert: `tamper: ${s.owner}/${s.repo}#${s.pr.number}: ${error}`, alertKind: "tamper" };
  }
  const target: GrantTarget = {
    id: st.grant_id ?? grantIdOf(s),
    requester: grant.requester,
    resource: grant.resource,
    role: grant.role,
    provider: role.provider,
    config: role.config,
    grant: role.grant,
    startsAt: window.starts_at,
    expiresAt: window.expires_at,
    pullRequest: s.pr.url,
  };
  const apply = { type: "apply" as const, target, standing: st.standing, warnBeforeMs: role.expiryWarningMs, ...(st.standing_unknown ? { standingFromTarget: false as const } : {}) };
  return { status: "PENDING", label: STATUS_LABELS.PENDING, record, effects: [apply] };
}

/** The end was recorded but its revert PR was not merged (blocked, or GitHub failed): try again. */
function revertFollowUp(s: RequestSnapshot, st: GrantRecord): Decision {
  const [path, blobSha] = st.revert_path_blob!;
  return {
    status: st.status as Status,
    record: st,
    view: st.status === "REJECTED" ? { kind: "bypassed" } : { kind: "record" },
    effects: [{ type: "revert", branch: revertBranch(s), path, blobSha, purpose: "follow-up" }],
  };
}

/** The refusal counters a record carries from step to step. */
function counters(st: GrantRecord) {
  return {
    ...(st.answered_through !== undefined ? { answered_through: st.answered_through, refused_count: st.refused_count } : {}),
    ...(st.answered ? { answered: st.answered } : {}),
  };
}

/** What a role gives at its target, as the policy on the default branch says now. */
function roleTarget(s: RequestSnapshot, grant: Grant): GrantRecord["target"] | undefined {
  const role = s.policy.ok ? s.policy.policy.role(grant.resource, grant.role) : undefined;
  return role ? { provider: role.provider, config: role.config, grant: role.grant } : undefined;
}

function sameTarget(a: NonNullable<GrantRecord["target"]>, b: NonNullable<GrantRecord["target"]>): boolean {
  const canonical = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => p.localeCompare(q))) : x));
  return canonical(a) === canonical(b);
}
