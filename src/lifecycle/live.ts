import { isInGroup, type MembershipLookup } from "../approval/evaluate.js";
import type { GrantTarget } from "../providers/types.js";
import type { Action, Decision } from "./decide.js";
import { statusComment, utc } from "./present.js";
import { escapeMarkdown } from "./render.js";
import type { RequestSnapshot } from "./snapshot.js";
import type { CommentState } from "./state-block.js";
import { STATUS_LABELS } from "./status.js";
import { nextAttemptAt } from "./window.js";

/**
 * A live grant (state APPROVED) and the ends it can come to (PRODUCT.md §5 "Expiry", "Early
 * revoke"): its window passes, an eligible `/jit revoke`, or a merged PR that deletes its file.
 * Access is taken away first; the revert PR that records the end in git history follows and
 * never delays it. A revoke that fails is retried with backoff and never reported as done.
 */
export function decideLive(s: RequestSnapshot, st: CommentState, now: Date, teamMember: MembershipLookup): Decision {
  const grant = st.grant!;
  const replies: Action[] = [];
  const answered = [...(st.answered ?? [])];
  let end: { status: "EXECUTED" | "REVOKED"; endedBy: string; revert: boolean } | undefined;

  // Its file left the default branch (a merged deletion, a push): the grant ends early. The app's
  // own revert PR only merges after the end is recorded, so it never lands here.
  // An end already decided (its revoke failed and waits for a retry) stands, whatever became of what asked for it.
  if (st.ending) end = st.ending;
  if (!end && s.grantOnDefaultBranch === false) end = { status: "REVOKED", endedBy: `its grant file was removed from ${s.defaultBranch}`, revert: false };

  const appliedAt = Date.parse(st.applied_at ?? "");
  for (const command of s.commands) {
    // A command written before the grant was applied does not end it: only later ones count.
    if (end || command.command !== "revoke" || !(Date.parse(command.createdAt) > appliedAt)) continue;
    if (mayRevoke(command.login, s, st, teamMember)) {
      end = { status: "REVOKED", endedBy: `revoked by ${command.login}${command.reason ? `: ${command.reason}` : ""}`, revert: true };
    } else if (!answered.includes(command.id)) {
      answered.push(command.id);
      const admins = s.policy.ok ? s.policy.policy.admins : [];
      replies.push({
        type: "comment",
        // Groups in code spans: a refused command must not ping the admins' whole team.
        body: `@${command.login} \`/jit revoke\` was not carried out: only the requester (${grant.requester}), an approver of this grant${(st.approvers ?? []).length ? ` (${st.approvers!.join(", ")})` : ""} or a policy admin${admins.length ? ` (${admins.map((a) => `\`${a}\``).join(", ")})` : ""} may end it early.`,
      });
    }
  }
  if (!end && now.getTime() >= Date.parse(st.expires_at!)) end = { status: "EXECUTED", endedBy: "its window ended", revert: true };

  if (end) {
    if (st.next_revoke_at && Date.parse(st.next_revoke_at) > now.getTime()) return { status: "APPROVED", actions: [] };
    return { status: "APPROVED", actions: [revokeAction(s, { ...st, answered }, end, now)] };
  }

  const state: CommentState = { ...st, answered };
  const actions: Action[] = [...replies];
  if (st.warn_at && now.getTime() >= Date.parse(st.warn_at) && !st.warned_at) {
    state.warned_at = now.toISOString();
    actions.push({
      type: "comment",
      once: (fresh) => !fresh?.warned_at,
      body: `⏰ @${grant.requester} your access (${grant.resource} · ${grant.role}) ends at ${utc(new Date(st.expires_at!))}. jit-access will revoke it then; open a new request if you still need it.`,
    });
  }
  const changed = actions.length > 0;
  return {
    status: "APPROVED",
    label: STATUS_LABELS.APPROVED,
    ...(changed ? { comment: liveComment(s, state) } : {}),
    actions,
  };
}

/** The requester, an approver whose approval counted, or a member of a policy admins group. */
function mayRevoke(login: string, s: RequestSnapshot, st: CommentState, teamMember: MembershipLookup): boolean {
  const who = login.toLowerCase();
  if (who === st.grant!.requester.toLowerCase()) return true;
  if ((st.approvers ?? []).some((a) => a.toLowerCase() === who)) return true;
  const admins = s.policy.ok ? s.policy.policy.admins : [];
  return admins.some((group) => isInGroup(group.toLowerCase(), who, teamMember));
}

export function liveComment(s: RequestSnapshot, st: CommentState): string {
  const grant = st.grant!;
  const window = { startsAt: new Date(st.starts_at!), expiresAt: new Date(st.expires_at!), appliedAt: new Date(st.applied_at!) };
  const retry = st.revoke_error ? `⚠️ Taking the access away failed (attempt ${st.revoke_attempts}): ${st.revoke_error}. jit-access tries again after ${st.next_revoke_at}; until then the access is still live.` : undefined;
  return statusComment(s, retry ? "⚠️ Access granted — revoke failing" : "🟢 Access granted", {
    grant,
    window,
    note: retry ?? "Access ends at the time shown, when jit-access revokes it and records the end as a revert pull request. `/jit revoke [reason]` ends it early.",
  }, st);
}

export function targetOf(s: RequestSnapshot, st: CommentState): GrantTarget {
  const grant = st.grant!;
  return {
    id: `${s.owner}/${s.repo}#${s.pr.number}`,
    requester: grant.requester,
    resource: grant.resource,
    role: grant.role,
    provider: st.target!.provider,
    config: st.target!.config,
    grant: st.target!.grant,
    startsAt: st.starts_at!,
    expiresAt: st.expires_at!,
    pullRequest: s.pr.url,
  };
}

export function revokeAction(s: RequestSnapshot, st: CommentState, end: { status: "EXECUTED" | "REVOKED"; endedBy: string; revert: boolean }, now: Date): Action {
  const grant = st.grant!;
  const path = st.path ?? (s.kind.kind === "request" ? s.kind.file.path : "");
  const blobSha = st.blob ?? (s.kind.kind === "request" ? s.kind.file.blobSha : "");
  const verb = end.status === "EXECUTED" ? "expired" : "revoked";
  return {
    type: "revoke",
    target: targetOf(s, st),
    standing: st.standing ?? [],
    revert: end.revert && path
      ? {
          branch: `jit-access/revert-${s.pr.number}`,
          path,
          blobSha,
          title: `jit: end #${s.pr.number} — ${grant.requester} ${grant.resource}/${grant.role} ${verb}`,
          body: (revokedAt) =>
            [
              `Records the end of #${s.pr.number}: ${grant.requester}'s access to ${grant.resource} (${grant.role}) ${verb} — ${escapeMarkdown(end.endedBy)}.`,
              "",
              `- Planned revoke: ${st.expires_at}`,
              `- Actual revoke: ${revokedAt.toISOString()}`,
              "",
              "The access was taken away before this pull request was opened; merging it only records the end in git history.",
            ].join("\n"),
        }
      : undefined,
    ended(revokedAt, revert) {
      const state: CommentState = {
        ...st,
        status: end.status,
        revoked_at: revokedAt.toISOString(),
        ended_by: end.endedBy,
        ...(revert?.number ? { revert_pr: revert.number } : {}),
        revert_pending: !!(end.revert && path) && !revert?.merged,
        ...(end.revert && path ? { revert_path_blob: [path, blobSha] as [string, string] } : {}),
      };
      delete state.revoke_error;
      delete state.next_revoke_at;
      delete state.ending;
      const headline = end.status === "EXECUTED" ? "⌛ Expired: access taken away" : "🛑 Revoked: access taken away";
      const window = { startsAt: new Date(st.starts_at!), expiresAt: new Date(st.expires_at!), appliedAt: new Date(st.applied_at!) };
      const note = `Access ${verb} (${end.endedBy}); taken away at ${utc(revokedAt)} (planned ${utc(new Date(st.expires_at!))}).${revert?.number ? ` Recorded in git history by #${revert.number}.` : ""}`;
      return { label: end.status === "EXECUTED" ? STATUS_LABELS.EXECUTED : STATUS_LABELS.REVOKED, comment: statusComment(s, headline, { grant, window, note }, state) };
    },
    failed(message) {
      const attempts = (st.revoke_attempts ?? 0) + 1;
      return liveComment(s, { ...st, ending: end, revoke_attempts: attempts, next_revoke_at: nextAttemptAt(attempts, now).toISOString(), revoke_error: message });
    },
  };
}
