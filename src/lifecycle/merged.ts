import type { MembershipLookup } from "../approval/evaluate.js";
import type { Judgement } from "./judge.js";
import { decideLive, revokeAction } from "./live.js";
import type { Action, Decision } from "./decide.js";
import { statusComment } from "./present.js";
import { escapeMarkdown } from "./render.js";
import type { RequestSnapshot } from "./snapshot.js";
import { replaceState, type CommentState, type StateStatus } from "./state-block.js";
import { STATUS_LABELS, type Status, type StatusLabel } from "./status.js";
import { EARLY_START_MS, nextAttemptAt, planWindow } from "./window.js";
import type { GrantTarget } from "../providers/types.js";
import type { Grant } from "../schemas/grant.js";

/**
 * A merged request (PRODUCT.md §5 "Merged", invariant 2): nothing is applied that the policy
 * did not approve. The first evaluation after the merge re-judges the merged content; its
 * verdict is recorded in the state block (SCHEDULED or APPLYING), so retries and scheduled
 * starts later work from that record and never re-read reviews.
 */
const SETTLED: readonly StateStatus[] = ["APPROVED", "REJECTED", "REVOKED", "EXECUTED"];

/**
 * How base-branch.ts's rejection of a request merged outside the default branch begins its
 * `ended_by`: a verdict on the merge itself, final, with nothing on the default branch to revert
 * (never a rejection from before the merge that the merge bypassed).
 */
export const MERGED_OUTSIDE = "merged into ";

export function labelOf(status: StateStatus): StatusLabel {
  return status === "SCHEDULED" || status === "APPLYING" ? STATUS_LABELS.PENDING : STATUS_LABELS[status as Status];
}

/** Statuses the loader can decide from without re-judging (no reviews, memberships or grant file needed). */
export function decidedFromState(state: CommentState | undefined): boolean {
  return !!state?.status && (SETTLED.includes(state.status) || ((state.status === "SCHEDULED" || state.status === "APPLYING") && !!state.grant));
}

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
    return { status: st.status as Status, label: labelOf(st.status), actions: [] };
  }
  if (decidedFromState(st)) return applyStep(s, st!.grant!, st!, now);

  const j = judge();
  if (j.verdict !== "approved") return bypassed(s, j);
  const approvers = [...new Set(j.outcome.groups.flatMap((g) => g.approvedBy))];
  return applyStep(s, j.grant, { v: 1, status: "APPLYING", grant: j.grant, approvers }, now);
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
function bypassed(s: RequestSnapshot, j: Judgement): Decision {
  const why =
    j.verdict === "pending" ? "the required approvals were not complete"
    : j.verdict === "rejected" ? `it was rejected (${j.reason})`
    : j.verdict === "no-approvers" ? "no approvers are mapped to its path"
    : j.verdict === "broken-policy" ? "the access policy is broken"
    : "the request is invalid";
  const grant = "grant" in j ? j.grant : undefined;
  const note = `This pull request was merged although ${why}. jit-access applied nothing and reverts the grant file; the security team has been alerted in the app's log.`;
  const state: Omit<CommentState, "v"> = { status: "REJECTED", ...(grant ? { grant } : {}), ended_by: `merged although ${why}` };
  const branch = `jit-access/revert-${s.pr.number}`;
  const path = s.kind.kind === "request" ? s.kind.file.path : "";
  return {
    status: "REJECTED",
    label: STATUS_LABELS.REJECTED,
    comment: statusComment(s, "⛔ Merged without meeting the policy: nothing was granted", { ...(grant ? { grant } : {}), note }, state),
    alert: `policy bypass: ${s.owner}/${s.repo}#${s.pr.number} was merged although ${why}; nothing was applied`,
    actions: path && s.kind.kind === "request"
      ? [{
          type: "revert",
          branch,
          path,
          blobSha: s.kind.file.blobSha,
          title: `jit: revert #${s.pr.number} (merged without meeting the policy)`,
          body: `Reverts #${s.pr.number}: it was merged although ${escapeMarkdown(why)}, so jit-access granted nothing. This removes its grant file so the repository shows no grant that never existed.`,
          recorded: (revertPr, merged) =>
            statusComment(s, "⛔ Merged without meeting the policy: nothing was granted", { ...(grant ? { grant } : {}), note: `${note} ${revertPr ? `Revert: #${revertPr}.` : "Its grant file had already been removed."}` }, { ...state, ...(revertPr ? { revert_pr: revertPr } : {}), revert_pending: !merged, revert_path_blob: [path, s.kind.kind === "request" ? s.kind.file.blobSha : ""] }),
        }]
      : [],
  };
}

/** Merged, the policy met: wait for `start`, back off after a failure, or apply now. */
function applyStep(s: RequestSnapshot, grant: Grant, st: CommentState, now: Date): Decision {
  const base = { grant, status: st.status, ...(st.approvers ? { approvers: st.approvers } : {}) } as const;
  const planned = planWindow(grant, mergedAt(s, now));
  if (s.grantOnDefaultBranch === false) {
    // Its file left the default branch before the grant was applied (a merged deletion): it never starts.
    const endedBy = `its grant file was removed from ${s.defaultBranch} before it was applied`;
    if (st.standing !== undefined && st.target) {
      // An apply was attempted: whatever it may have given is taken away.
      const attempted: CommentState = { ...st, starts_at: planned.startsAt.toISOString(), expires_at: planned.expiresAt.toISOString(), applied_at: st.applied_at ?? planned.startsAt.toISOString() };
      return { status: "PENDING", actions: [revokeAction(s, attempted, { status: "REVOKED", endedBy, revert: false }, now)] };
    }
    const state = { ...base, status: "REVOKED" as const, ended_by: endedBy };
    return {
      status: "REVOKED",
      label: STATUS_LABELS.REVOKED,
      comment: statusComment(s, "🛑 Withdrawn before it was applied", { grant, note: "Its grant file was removed from the default branch, so nothing was granted." }, state),
      actions: [],
    };
  }
  if (planned.startsAt.getTime() - EARLY_START_MS > now.getTime()) {
    const state = { ...base, status: "SCHEDULED" as const, starts_at: planned.startsAt.toISOString(), expires_at: planned.expiresAt.toISOString() };
    return {
      status: "PENDING",
      label: STATUS_LABELS.PENDING,
      comment: statusComment(s, "🕒 Approved and scheduled", { grant, window: planned, note: `Access is applied at the scheduled start.` }, state),
      actions: [],
    };
  }
  if (planned.expiresAt <= now && st.standing !== undefined && st.target) {
    // An apply was attempted (its standing access is recorded) and never confirmed: part of it may
    // have reached the target. The window is over, so whatever it gave is taken away.
    const attempted: CommentState = { ...st, starts_at: planned.startsAt.toISOString(), expires_at: planned.expiresAt.toISOString(), applied_at: st.applied_at ?? planned.startsAt.toISOString() };
    return { status: "PENDING", actions: [revokeAction(s, attempted, { status: "EXECUTED", endedBy: "its window ended before the provider confirmed the grant", revert: true }, now)] };
  }
  if (planned.expiresAt <= now) {
    const state = { ...base, status: "EXECUTED" as const, expires_at: planned.expiresAt.toISOString() };
    return {
      status: "EXECUTED",
      label: STATUS_LABELS.EXECUTED,
      comment: statusComment(s, "⌛ The window ended before access could be applied", { grant, note: "Nothing was granted. Open a new request if access is still needed." }, state),
      actions: [],
    };
  }
  if (st.next_attempt_at && Date.parse(st.next_attempt_at) > now.getTime()) return { status: "PENDING", actions: [] };

  const role = s.policy.ok ? s.policy.policy.role(grant.resource, grant.role) : undefined;
  if (!role) {
    const error = `the policy on ${s.defaultBranch} no longer has ${grant.resource}/${grant.role}, or is broken`;
    return applyFailed(s, grant, st, now, error);
  }
  const target: GrantTarget = {
    id: `${s.owner}/${s.repo}#${s.pr.number}`,
    requester: grant.requester,
    resource: grant.resource,
    role: grant.role,
    provider: role.provider,
    config: role.config,
    grant: role.grant,
    startsAt: planned.startsAt.toISOString(),
    expiresAt: planned.expiresAt.toISOString(),
    pullRequest: s.pr.url,
  };
  const action: Action = {
    type: "apply",
    target,
    standing: st.standing,
    applying: (standing) =>
      statusComment(s, "⚙️ Applying", { grant, note: "Approved and merged; the provider is applying the grant." }, {
        ...base, status: "APPLYING", standing, target: { provider: role.provider, config: role.config, grant: role.grant },
        starts_at: planned.startsAt.toISOString(), expires_at: planned.expiresAt.toISOString(), ...attemptFields(st),
      }),
    applied(appliedAt, standing, access) {
      const window = planWindow(grant, mergedAt(s, now));
      const warnAt = new Date(window.expiresAt.getTime() - role.expiryWarningMs);
      const state: Omit<CommentState, "v"> = {
        ...base,
        status: "APPROVED",
        standing,
        applied_at: appliedAt.toISOString(),
        starts_at: window.startsAt.toISOString(),
        expires_at: window.expiresAt.toISOString(),
        ...(warnAt > appliedAt ? { warn_at: warnAt.toISOString() } : {}),
        target: { provider: role.provider, config: role.config, grant: role.grant },
      };
      return {
        label: STATUS_LABELS.APPROVED,
        comment: statusComment(s, "🟢 Access granted", { grant, window: { ...window, appliedAt, access }, note: `Access ends at the time shown, when jit-access revokes it and records the end as a revert pull request. \`/jit revoke [reason]\` ends it early.` }, state),
      };
    },
    failed: (message, standing) =>
      applyFailed(s, grant, {
        ...st,
        ...(standing ? { standing, target: { provider: role.provider, config: role.config, grant: role.grant }, starts_at: planned.startsAt.toISOString(), expires_at: planned.expiresAt.toISOString() } : {}),
      }, now, message).comment!,
  };
  return { status: "PENDING", label: STATUS_LABELS.PENDING, actions: [action] };
}

function attemptFields(st: CommentState) {
  return st.attempts ? { attempts: st.attempts, next_attempt_at: st.next_attempt_at, error: st.error } : {};
}

/** Not applied yet: shown on the PR with the provider's error, retried with backoff, never reported as APPROVED. */
function applyFailed(s: RequestSnapshot, grant: Grant, st: CommentState, now: Date, error: string): Decision {
  const attempts = (st.attempts ?? 0) + 1;
  const next = nextAttemptAt(attempts, now);
  const state: Omit<CommentState, "v"> = {
    grant, status: "APPLYING", ...(st.approvers ? { approvers: st.approvers } : {}),
    ...(st.standing ? { standing: st.standing } : {}), ...(st.target ? { target: st.target } : {}),
    ...(st.starts_at && st.expires_at ? { starts_at: st.starts_at, expires_at: st.expires_at } : {}), attempts, next_attempt_at: next.toISOString(), error,
  };
  return {
    status: "PENDING",
    label: STATUS_LABELS.PENDING,
    comment: statusComment(s, "⚠️ Approved, but not applied yet", { grant, errors: [], note: `Attempt ${attempts} failed: ${error}. jit-access tries again after ${next.toISOString()}; access is not granted until the provider confirms.` }, state),
    actions: [],
  };
}

/** The end was recorded but its revert PR was not merged (blocked, or GitHub failed): try again. */
function revertFollowUp(s: RequestSnapshot, st: CommentState): Decision {
  const [path, blobSha] = st.revert_path_blob!;
  const body = s.check!.text;
  return {
    status: st.status as Status,
    actions: [{
      type: "revert",
      branch: `jit-access/revert-${s.pr.number}`,
      path,
      blobSha,
      title: `jit: end #${s.pr.number}`,
      body: `Records the end of #${s.pr.number} in git history; access was already taken away.`,
      recorded: (revertPr, merged) => replaceState(body, { ...st, ...(revertPr ? { revert_pr: revertPr } : {}), revert_pending: !merged }),
    }],
  };
}
