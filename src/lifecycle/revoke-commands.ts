import { isInGroup, type MembershipLookup } from "../approval/evaluate.js";
import type { Effect } from "./decision.js";
import { wasAnswered, type GrantRecord } from "./record.js";
import type { RequestSnapshot } from "./snapshot.js";

/** Refusals answered per evaluation: thousands of refused commands cost a few replies, not thousands. */
export const MAX_REPLIES = 3;

export interface RevokeRequests {
  /** The first eligible `/jit revoke` written after `since`, if any. */
  revoke?: { login: string; reason: string };
  /** Replies to refused commands not answered before (at most MAX_REPLIES). */
  replies: Effect[];
  /** The record's counters after this evaluation (unchanged when nothing new was refused). */
  counted: Pick<GrantRecord, "answered_through" | "refused_count">;
}

/**
 * `/jit revoke` comments on a merged grant (live, or not started yet): who asked, whether they
 * may, and the refusals to answer. Only commands written after `since` count (the apply of a live
 * grant, the merge of a scheduled one): a command from before does not end what came after it.
 * `inclusive`: one written in the same second counts (GitHub's comment times are whole seconds;
 * withdrawing what has not started can only take access away).
 */
export function revokeRequests(s: RequestSnapshot, st: GrantRecord, since: number, teamMember: MembershipLookup, inclusive = false): RevokeRequests {
  const grant = st.grant!;
  const admins = s.policy.ok ? s.policy.policy.admins : [];
  const replies: Effect[] = [];
  let through = st.answered_through ?? Math.max(0, ...(st.answered ?? []));
  let refused = st.refused_count ?? st.answered?.length ?? 0;
  let revoke: RevokeRequests["revoke"];
  for (const command of s.commands) {
    const at = Date.parse(command.createdAt);
    if (revoke || command.command !== "revoke" || !(inclusive ? at >= since : at > since)) continue;
    if (mayRevoke(command.login, s, st, teamMember)) {
      revoke = { login: command.login, reason: command.reason };
    } else if (!wasAnswered(st, command.id)) {
      refused += 1;
      through = Math.max(through, command.id);
      if (replies.length < MAX_REPLIES) replies.push({ type: "reply", to: command.login, refused: "revoke", requester: grant.requester, approvers: st.approvers ?? [], admins });
    }
  }
  const changed = refused !== (st.refused_count ?? st.answered?.length ?? 0);
  return { ...(revoke ? { revoke } : {}), replies, counted: changed ? { answered_through: through, refused_count: refused } : {} };
}

/** The requester, an approver whose approval counted, or a member of a policy admins group. */
export function mayRevoke(login: string, s: RequestSnapshot, st: GrantRecord, teamMember: MembershipLookup): boolean {
  const who = login.toLowerCase();
  if (who === st.grant!.requester.toLowerCase()) return true;
  if ((st.approvers ?? []).some((a) => a.toLowerCase() === who)) return true;
  const admins = s.policy.ok ? s.policy.policy.admins : [];
  return admins.some((group) => isInGroup(group.toLowerCase(), who, teamMember));
}

/** The record with its refusal counters; legacy `answered` lists give way to the high-water mark. */
export function withCounts<T extends Omit<GrantRecord, "v">>(st: T, counted: RevokeRequests["counted"]): T {
  if (counted.answered_through === undefined) return st;
  const next: T = { ...st, ...counted };
  delete next.answered;
  return next;
}
