import type { ApprovalOutcome, Requirement } from "../approval/evaluate.js";
import { formatDiagnostic, sortDiagnostics, type Diagnostic } from "../diagnostics.js";
import type { Grant } from "../schemas/grant.js";
import type { CheckPlan } from "./decide.js";
import { renderTemplate } from "./render.js";
import type { RequestSnapshot } from "./snapshot.js";
import { embedState, type CommentState } from "./state-block.js";

/** Views and text for the check run and the status comment, shared by every decision. */
export function completed(conclusion: "success" | "failure", title: string, summary: string, annotations: Diagnostic[]): CheckPlan {
  return { status: "completed", conclusion, title, summary, annotations: sortDiagnostics(annotations) };
}

export function count(list: readonly unknown[], noun: string): string {
  return `${list.length} ${noun}${list.length === 1 ? "" : "s"}`;
}

export function errorList(diagnostics: readonly Diagnostic[]): string {
  return renderTemplate("check-summary.md", { hasErrors: diagnostics.length > 0, errors: errorViews(diagnostics) }).trim();
}

function errorViews(diagnostics: readonly Diagnostic[]) {
  return sortDiagnostics(diagnostics).map((d) => ({ location: formatDiagnostic(d).slice(0, -(d.message.length + 2)), message: d.message }));
}

export interface ApprovalsView {
  requirement: Requirement;
  outcome: ApprovalOutcome;
}

function approvalsView({ requirement, outcome }: ApprovalsView) {
  return {
    modeText: requirement.breakGlass
      ? "break-glass: one approval from any of these"
      : requirement.mode === "all"
        ? `every group, ${requirement.minPerGroup} each`
        : `any one group, ${requirement.minPerGroup} approval${requirement.minPerGroup === 1 ? "" : "s"}`,
    groups: outcome.groups.map((g) => ({
      icon: g.satisfied ? "✅" : "⏳",
      group: g.group,
      count: Math.min(g.approvedBy.length, g.needed),
      needed: g.needed,
      approvedBy: g.approvedBy.join(", "),
    })),
    autoApprovedBy: outcome.autoApprovedBy,
    unresolvedVetoes: outcome.unresolvedVetoes.map((login) => ({ login })),
    hasIgnored: outcome.ignored.length > 0,
    ignored: outcome.ignored,
  };
}

function grantView(grant: Grant | undefined) {
  return grant && { ...grant, ticket: grant.ticket, start: grant.start };
}

export function progressSummary(grant: Grant | undefined, requirement: Requirement, outcome: ApprovalOutcome, warnings: readonly Diagnostic[] = []): string {
  return renderTemplate("check-summary.md", { grant: grantView(grant), approvals: approvalsView({ requirement, outcome }), ...warningsView(warnings) }).trim();
}

export function warningList(warnings: readonly Diagnostic[]): string {
  return renderTemplate("check-summary.md", warningsView(warnings)).trim();
}

function warningsView(warnings: readonly Diagnostic[]) {
  return { hasWarnings: warnings.length > 0, warnings: errorViews(warnings) };
}

/** CODEOWNERS lines GitHub cannot honour either (email owners, `!`, `[...]`): skipped, and said so. */
export function codeownersWarnings(s: RequestSnapshot): Diagnostic[] {
  return s.codeowners?.problems ?? [];
}

export interface WindowView {
  startsAt: Date;
  expiresAt: Date;
  appliedAt?: Date;
  access?: string;
}

/** The status comment: headline, request, approvals, window, errors, a note; the state block last. */
export function statusComment(
  s: RequestSnapshot,
  headline: string,
  parts: { grant?: Grant; approvals?: ApprovalsView; errors?: Diagnostic[]; note?: string; window?: WindowView },
  state: Omit<CommentState, "v">,
): string {
  const view = {
    headline,
    emergency: parts.grant?.emergency === true,
    breakGlassApprovers: s.policy.ok ? (s.policy.policy.breakGlass?.approvers ?? []).join(", ") : "",
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
  // What was announced stays recorded through every later state.
  const notified = [...new Set([...((s.record?.notified ?? s.notifiedBefore) ?? []), ...(state.notified ?? [])])];
  const full: CommentState = { v: 1, ...state, ...(notified.length ? { notified } : {}) };
  if (s.kind.kind === "request") Object.assign(full, { path: s.kind.file.path, blob: s.kind.file.blobSha });
  return embedState(renderTemplate("status-comment.md", view), full);
}

/** Times as people read them in a comment: `2026-11-29 15:00 UTC`. */
export function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
