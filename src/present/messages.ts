import type { Effect, RevertPlan } from "../lifecycle/decision.js";
import type { GrantRecord } from "../lifecycle/record.js";
import { escapeMarkdown } from "./render.js";
import { utc } from "./text.js";

/**
 * Texts the app writes besides the status comment: the merge commit (its trailers let git history
 * alone tell who asked and who approved), revert PRs, replies and the expiry warning.
 */
export function mergeCommit(effect: Extract<Effect, { type: "merge" }>, number: number): { title: string; message: string } {
  const { grant } = effect;
  const trailers = [
    `Jit-Requester: ${grant.requester}`,
    `Jit-Access: ${grant.resource}/${grant.role}`,
    `Jit-Duration: ${grant.duration}`,
    ...(effect.autoApprovedBy ? [`Jit-Auto-Approved-By: ${effect.autoApprovedBy}`] : []),
    ...effect.approvers.map((a) => `Jit-Approved-By: ${a}`),
    ...(grant.emergency ? ["Jit-Break-Glass: true"] : []),
  ];
  return { title: `jit: ${grant.requester} → ${grant.resource}/${grant.role} for ${grant.duration} (#${number})`, message: trailers.join("\n") };
}

/** The revert PR's title and body; `revokedAt` for the end of a grant whose access was taken away. */
export function revertText(plan: RevertPlan, record: GrantRecord, number: number, revokedAt?: Date): { title: string; body: string } {
  if (plan.purpose === "bypass") {
    return {
      title: `jit: revert #${number} (merged without meeting the policy)`,
      body: `Reverts #${number}: it was ${escapeMarkdown(record.ended_by ?? "merged although the policy was not met")}, so jit-access granted nothing. This removes its grant file so the repository shows no grant that never existed.`,
    };
  }
  if (plan.purpose === "follow-up" || !record.grant) {
    return { title: `jit: end #${number}`, body: `Records the end of #${number} in git history; access was already taken away.` };
  }
  // Drawn from the record as the revoke settled it: its status and `ended_by` say how it ended.
  const grant = record.grant;
  const verb = record.status === "EXECUTED" ? "expired" : "revoked";
  return {
    title: `jit: end #${number} — ${grant.requester} ${grant.resource}/${grant.role} ${verb}`,
    body: [
      `Records the end of #${number}: ${grant.requester}'s access to ${grant.resource} (${grant.role}) ${verb} — ${escapeMarkdown(record.ended_by ?? "")}.`,
      "",
      `- Planned revoke: ${record.expires_at}`,
      `- Actual revoke: ${(revokedAt ?? new Date(record.revoked_at ?? Date.now())).toISOString()}`,
      "",
      "The access was taken away before this pull request was opened; merging it only records the end in git history.",
    ].join("\n"),
  };
}

/** A `/jit revoke` that was refused. Groups in code spans: a refused command must not ping an admins' whole team. */
export function refusedRevokeReply(effect: Extract<Effect, { type: "reply" }>): string {
  const { approvers, admins } = effect;
  return `@${effect.to} \`/jit revoke\` was not carried out: only the requester (${effect.requester}), an approver of this grant${approvers.length ? ` (${approvers.join(", ")})` : ""} or a policy admin${admins.length ? ` (${admins.map((a) => `\`${a}\``).join(", ")})` : ""} may end it early.`;
}

export function expiryWarning(record: GrantRecord): string {
  const grant = record.grant!;
  return `⏰ @${grant.requester} your access (${grant.resource} · ${grant.role}) ends at ${utc(new Date(record.expires_at!))}. jit-access will revoke it then; open a new request if you still need it.`;
}

/** The marker of a handover reply: `jit ssh-cert` finds the app's reply by it (and by its author). */
export const HANDOVER_MARKER = "<!-- jit-access:handover -->";

/**
 * What an apply hands to the requester (an SSH certificate), as a reply on the request PR. The
 * content is public by contract (Handover); it is shown verbatim in a code block whose fence is
 * longer than any backtick run inside it, so nothing in it can end the block early.
 */
export function handoverReply(requester: string, handover: { summary: string; content: string }): string {
  const longest = Math.max(2, ...[...handover.content.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${HANDOVER_MARKER}\n@${requester} ${escapeMarkdown(handover.summary)}\n\n${fence}text\n${handover.content.trimEnd()}\n${fence}`;
}
