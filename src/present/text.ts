import type { Requirement, ApprovalOutcome } from "../approval/evaluate.js";
import { formatDiagnostic, sortDiagnostics, type Diagnostic } from "../diagnostics.js";
import type { Grant } from "../schemas/grant.js";
import { renderTemplate } from "./render.js";

/** Pieces of text shared by the status comment and the check run. */

export function count(list: readonly unknown[], noun: string): string {
  return `${list.length} ${noun}${list.length === 1 ? "" : "s"}`;
}

export function errorList(diagnostics: readonly Diagnostic[]): string {
  return renderTemplate("check-summary.md", { hasErrors: diagnostics.length > 0, errors: errorViews(diagnostics) }).trim();
}

export function errorViews(diagnostics: readonly Diagnostic[]) {
  return sortDiagnostics(diagnostics).map((d) => ({ location: formatDiagnostic(d).slice(0, -(d.message.length + 2)), message: d.message }));
}

export function approvalsView({ requirement, outcome }: { requirement: Requirement; outcome: ApprovalOutcome }) {
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

export function grantView(grant: Grant | undefined) {
  return grant && { ...grant, ticket: grant.ticket, start: grant.start };
}

export function progressSummary(grant: Grant | undefined, approvals: { requirement: Requirement; outcome: ApprovalOutcome }, warnings: readonly Diagnostic[] = []): string {
  return renderTemplate("check-summary.md", { grant: grantView(grant), approvals: approvalsView(approvals), ...warningsView(warnings) }).trim();
}

export function warningList(warnings: readonly Diagnostic[]): string {
  return renderTemplate("check-summary.md", warningsView(warnings)).trim();
}

function warningsView(warnings: readonly Diagnostic[]) {
  return { hasWarnings: warnings.length > 0, warnings: errorViews(warnings) };
}

/** Times as people read them in a comment: `2026-11-29 15:00 UTC`. */
export function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
