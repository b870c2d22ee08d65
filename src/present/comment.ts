import type { Diagnostic } from "../diagnostics.js";
import { embedState } from "../lifecycle/codec.js";
import type { CommentView, ApprovalsView } from "../lifecycle/decision.js";
import type { GrantRecord } from "../lifecycle/record.js";
import type { RequestSnapshot } from "../lifecycle/snapshot.js";
import { POLICY_PATH } from "../policy/paths.js";
import type { Grant } from "../schemas/grant.js";
import { notesText, type DisplayNote } from "./notes.js";
import { renderTemplate } from "./render.js";
import { approvalsView, errorViews, grantView, utc } from "./text.js";

/** What a status comment is drawn from, besides the record: the snapshot's plain facts. */
export type CommentContext = Pick<RequestSnapshot, "defaultBranch" | "policy">;

interface Parts {
  grant?: Grant | undefined;
  approvals?: ApprovalsView;
  errors?: Diagnostic[];
  note?: string;
  window?: { startsAt: Date; expiresAt: Date; appliedAt?: Date; access?: string | undefined };
}

const FOOTER = "<sub>Updated by jit-access";
const EXTENSIONS_OPEN = "<!-- jit-access:extensions -->";
const EXTENSIONS_CLOSE = "<!-- /jit-access:extensions -->";

/**
 * The status comment (and the record's text): headline, request, approvals, window, errors, a
 * note, the extensions that continue the grant, notes about what just failed, the record last.
 * A pure function of the record and the view: the same record always draws the same text.
 */
export function statusComment(ctx: CommentContext, record: GrantRecord, view: CommentView, notes: readonly DisplayNote[] = []): string {
  const [headline, parts] = headlineAndParts(ctx, record, view);
  const shown = {
    headline,
    emergency: parts.grant?.emergency === true,
    breakGlassApprovers: ctx.policy.ok ? (ctx.policy.policy.breakGlass?.approvers ?? []).join(", ") : "",
    grant: grantView(parts.grant),
    window: parts.window && {
      startsAt: utc(parts.window.startsAt),
      expiresAt: utc(parts.window.expiresAt),
      appliedAt: parts.window.appliedAt && utc(parts.window.appliedAt),
      access: parts.window.access,
    },
    approvals: parts.approvals && approvalsView(parts.approvals),
    hasErrors: (parts.errors?.length ?? 0) > 0,
    errors: errorViews(parts.errors ?? []),
    note: parts.note,
  };
  let body = renderTemplate("status-comment.md", shown).trimEnd();
  const links = record.extended_by ?? [];
  if (links.length > 0) {
    const section = `${EXTENSIONS_OPEN}\n➡️ **Continued by** ${links.map((n) => `#${n}`).join(", ")}: a request to extend this grant from its end, judged like any request.\n${EXTENSIONS_CLOSE}`;
    const at = body.lastIndexOf(FOOTER);
    body = at >= 0 ? `${body.slice(0, at).trimEnd()}\n\n${section}\n\n${body.slice(at)}` : `${body}\n\n${section}`;
  }
  const extra = notesText(notes);
  const full = embedState(extra ? `${body}\n\n${extra}` : body, record);
  if (full.length <= MAX_RECORD_TEXT) return full;
  // Too long for a check run's text (GitHub's limit is 65,535): the display gives way, never the record.
  const short = `### jit-access · ${headline}\n\nThis status is too long to show in full; jit-access's record of it (below, and in the \`jit-access\` check run) is complete.\n\n${FOOTER_LINE}`;
  return embedState(short, record);
}

/** Room for the record's text in a check run (65,535 characters), with a margin. */
export const MAX_RECORD_TEXT = 60_000;
const FOOTER_LINE = "<sub>Updated by jit-access on every change to this pull request. Commands: `/jit reject [reason]` (approvers), `/jit revoke [reason]` (after merge).</sub>";

function headlineAndParts(ctx: CommentContext, r: GrantRecord, view: CommentView): [string, Parts] {
  switch (view.kind) {
    case "broken-policy":
      return ["⛔ The access policy is broken", { errors: view.errors, note: `Fix ${POLICY_PATH} on ${ctx.defaultBranch}; this request will be checked again on its next change.` }];
    case "untrusted-policy":
      return ["⛔ The access policy is not trusted", { errors: view.errors, note: `Every request fails closed until the policy and CODEOWNERS on ${ctx.defaultBranch} come through a pull request jit-access approved; this request will be checked again on its next change.` }];
    case "invalid":
      return ["⚠️ Invalid request", { grant: view.grant, errors: view.errors, note: "Push a fix to this branch; the request is checked again on every change." }];
    case "no-approvers":
      return ["⛔ No approvers mapped", { grant: view.grant, errors: view.errors, note: "Nobody can approve this request, so it cannot proceed. Add an owner for this path to CODEOWNERS." }];
    case "rejected":
      return ["❌ Rejected", { grant: view.grant, approvals: view.approvals, note: `Rejected by ${view.by}: ${view.reason}. Nothing was granted.` }];
    case "vetoed":
      return ["❌ Rejected", { grant: view.grant, errors: view.errors, note: `Rejected by ${view.by}: ${view.reason}. Nothing was granted.` }];
    case "pending":
      return ["⏳ Waiting for approvals", { grant: view.grant, approvals: view.approvals }];
    case "approved": {
      const note = view.merge === "draft"
        ? "Approved. Mark the pull request ready for review to merge it."
        : view.merge === "auto"
          ? "Approved: jit-access merges this pull request and then applies the grant."
          : "Approved. The policy leaves merging to a person (merge: manual); the grant is applied when it is merged.";
      return ["✅ Approved", { grant: view.grant, approvals: view.approvals, note }];
    }
    case "closed":
      return ["❌ Rejected", { grant: r.grant, note: "This pull request was closed without merging: the request is rejected and nothing was granted." }];
    case "off-default":
      return ["⚠️ Not against the default branch", { errors: view.errors, note: `Nothing is judged, merged or applied until this pull request targets ${ctx.defaultBranch}.` }];
    case "merged-outside":
      return ["⛔ Merged outside the default branch: nothing was granted", {
        errors: [view.error],
        note: `This pull request was merged into ${view.base}, not the default branch ${ctx.defaultBranch}: jit-access granted nothing, and nothing needs to be revoked or reverted on ${ctx.defaultBranch}.`,
      }];
    case "bypassed": {
      const reverted = r.revert_path_blob ? (r.revert_pr ? ` Revert: #${r.revert_pr}.` : " Its grant file had already been removed.") : "";
      return ["⛔ Merged without meeting the policy: nothing was granted", {
        grant: r.grant,
        note: `This pull request was ${r.ended_by ?? "merged although the policy was not met"}. jit-access applied nothing and reverts the grant file; the security team has been alerted in the app's log.${reverted}`,
      }];
    }
    case "record":
      return fromRecord(r);
  }
}

/** A merged request: everything shown comes from its record. */
function fromRecord(r: GrantRecord): [string, Parts] {
  const grant = r.grant;
  const at = (t: string | undefined) => new Date(t!);
  switch (r.status) {
    case "SCHEDULED":
      return ["🕒 Approved and scheduled", { grant, window: { startsAt: at(r.starts_at), expiresAt: at(r.expires_at) }, note: "Access is applied at the scheduled start." }];
    case "APPLYING":
      if (r.revoke_error !== undefined) return liveView(r);
      if (r.error !== undefined && r.next_attempt_at !== undefined) {
        return ["⚠️ Approved, but not applied yet", { grant, errors: [], note: `Attempt ${r.attempts} failed: ${r.error}. jit-access tries again after ${r.next_attempt_at}; access is not granted until the provider confirms.` }];
      }
      return ["⚙️ Applying", { grant, note: "Approved and merged; the provider is applying the grant." }];
    case "APPROVED":
      return liveView(r);
    case "EXECUTED":
    case "REVOKED": {
      if (r.revoked_at === undefined) {
        if (r.status === "REVOKED" && r.withdrawn_by) return ["🛑 Withdrawn before it started", { grant, note: `Withdrawn by ${r.withdrawn_by} (\`/jit revoke\`) before its start: nothing was granted, and nothing will be.` }];
        return r.status === "REVOKED"
          ? ["🛑 Withdrawn before it was applied", { grant, note: "Its grant file was removed from the default branch, so nothing was granted." }]
          : ["⌛ The window ended before access could be applied", { grant, note: "Nothing was granted. Open a new request if access is still needed." }];
      }
      const verb = r.status === "EXECUTED" ? "expired" : "revoked";
      const window = { startsAt: at(r.starts_at), expiresAt: at(r.expires_at), appliedAt: at(r.applied_at), access: r.access };
      const note = `Access ${verb} (${r.ended_by}); taken away at ${utc(at(r.revoked_at))} (planned ${utc(at(r.expires_at))}).${r.revert_pr ? ` Recorded in git history by #${r.revert_pr}.` : ""}`;
      return [r.status === "EXECUTED" ? "⌛ Expired: access taken away" : "🛑 Revoked: access taken away", { grant, window, note }];
    }
    default:
      return ["❌ Rejected", { grant, note: r.ended_by ? `Ended: ${r.ended_by}.` : "Nothing was granted." }];
  }
}

/** A live grant, or one whose access may be live (an apply attempted) while its revoke is failing. */
function liveView(r: GrantRecord): [string, Parts] {
  const at = (t: string | undefined) => new Date(t!);
  const window = { startsAt: at(r.starts_at), expiresAt: at(r.expires_at), appliedAt: at(r.applied_at), access: r.access };
  if (r.revoke_error !== undefined) {
    return ["⚠️ Access granted — revoke failing", { grant: r.grant, window, note: `⚠️ Taking the access away failed (attempt ${r.revoke_attempts}): ${r.revoke_error}. jit-access tries again after ${r.next_revoke_at}; until then the access is still live.` }];
  }
  return ["🟢 Access granted", { grant: r.grant, window, note: "Access ends at the time shown, when jit-access revokes it and records the end as a revert pull request. `/jit revoke [reason]` ends it early." }];
}
