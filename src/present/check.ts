import { sortDiagnostics, type Diagnostic } from "../diagnostics.js";
import type { CheckView } from "../lifecycle/decision.js";
import { POLICY_PATH } from "../policy/paths.js";
import { planMarkdown } from "./plan.js";
import { count, errorList, progressSummary, warningList } from "./text.js";

/** An annotation on a line: a failure (an error) unless it only warns (a line that widens access). */
export type Annotation = Diagnostic & { level?: "warning" };

/** The `jit-access` check run as GitHub takes it: status, conclusion, title, Markdown summary, annotations. */
export interface CheckPlan {
  status: "in_progress" | "completed";
  conclusion?: "success" | "failure";
  title: string;
  summary: string;
  annotations: Annotation[];
}

function completed(conclusion: "success" | "failure", title: string, summary: string, annotations: Annotation[]): CheckPlan {
  return { status: "completed", conclusion, title, summary, annotations: sortDiagnostics(annotations) };
}

/** Draws a check view (pure): what the decision wants GitHub to show on the head commit. */
export function checkPlan(view: CheckView, defaultBranch: string): CheckPlan {
  switch (view.kind) {
    case "broken-policy":
      return completed("failure", "The access policy is broken", `The policy on ${defaultBranch} is broken, so every request fails closed until it is fixed.\n\n${errorList(view.errors)}`, view.errors);
    case "untrusted-policy":
      return completed("failure", "The access policy is not trusted", `The policy or CODEOWNERS on ${defaultBranch} did not come through a pull request jit-access approved, so every request fails closed until it does.\n\n${errorList(view.errors)}`, view.errors);
    case "invalid":
      return completed("failure", `The request has ${count(view.errors, "problem")}`, errorList(view.errors), view.errors);
    case "no-approvers":
      return completed("failure", "No approvers mapped", `${errorList(view.errors)}\n\n${warningList(view.warnings)}`.trim(), view.errors);
    case "rejected":
      return completed("failure", "Rejected", `Rejected by ${view.by}: ${view.reason}. Nothing was granted.\n\n${progressSummary(view.grant, view.approvals)}`, []);
    case "vetoed":
      return completed("failure", "Rejected", `Rejected by ${view.by}: ${view.reason}. Nothing was granted.\n\n${errorList(view.errors)}`, view.errors);
    case "pending":
      return { status: "in_progress", title: "Waiting for approvals", summary: progressSummary(view.grant, view.approvals, view.warnings), annotations: [] };
    case "approved":
      return completed("success", "Approved", progressSummary(view.grant, view.approvals, view.warnings), []);
    case "off-default":
      return completed("failure", "Not against the default branch", errorList(view.errors), view.errors);
    case "policy-invalid":
      return completed("failure", `The new policy has ${count(view.errors, "error")}`, errorList(view.errors), view.errors);
    case "policy-no-approvers":
      return completed("failure", "No approvers mapped", errorList(view.errors), view.errors);
    case "policy-approved":
    case "policy-waiting": {
      const owned = view.codeownersChanged.length > 0 ? `${POLICY_PATH} and ${[...new Set([view.codeownersPath, ...view.codeownersChanged])].join(", ")}` : POLICY_PATH;
      const changed = view.codeownersChanged.length > 0 ? ` This pull request changes ${view.codeownersChanged.join(", ")}: who approves is an access change too.` : "";
      const intro = `${POLICY_PATH} is valid: ${view.resources} resource(s). A policy change is an access change: every group that ${view.codeownersPath} on ${defaultBranch} gives ${owned} must approve this head (or an older commit with exactly the same changes).${changed} jit-access never merges it; it judges requests once merged into ${defaultBranch}.`;
      // Approvals before the plan: a long plan must never push them out of what GitHub keeps.
      const summary = `${intro}\n\n${progressSummary(undefined, view.approvals, view.warnings)}\n\n${planMarkdown(view.plan, defaultBranch, view.wideningRequires)}`;
      const widening = sortDiagnostics(view.widening).map((d) => ({ ...d, level: "warning" as const }));
      if (view.kind === "policy-approved") return { ...completed("success", "The new policy is valid and approved by its owners", summary, []), annotations: widening };
      const { outcome } = view.approvals;
      const missing = outcome.groups.filter((g) => !g.satisfied).map((g) => g.group);
      const missingOwners = missing.filter((g) => !view.wideningRequires.includes(g));
      const missingWidening = missing.filter((g) => view.wideningRequires.includes(g));
      const owed = [
        ...(missingOwners.length > 0 ? [`the policy's owners: ${missingOwners.join(", ")}`] : []),
        ...(missingWidening.length > 0 ? [`${missingWidening.join(", ")} (this change widens access)`] : []),
      ].join("; ");
      // An owner's change request holds the check until they approve, as it would a grant.
      const objections = outcome.rejectedBy.length > 0 ? `Changes requested by ${outcome.rejectedBy.join(", ")}` : undefined;
      const title = !objections ? `Waiting for ${owed}` : missing.length > 0 ? `${objections}; waiting for ${owed}` : objections;
      return { status: "in_progress", title, summary, annotations: widening };
    }
  }
}
