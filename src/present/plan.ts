import type { AccessPlan, Effect, PlanChange } from "../plan/types.js";
import { renderTemplate } from "./render.js";

/** Drawing an access plan (src/plan/): the check's Markdown and the rows the CLI prints. */

export const EFFECT_ICON: Record<Effect, string> = { widening: "⬆", narrowing: "⬇", neutral: "•" };

/** "widens access: 2 roles, narrows: 1 role", or what else there is to say. */
export function planSummary(p: AccessPlan): string {
  const roles = (n: number) => `${n} role${n === 1 ? "" : "s"}`;
  const parts = [
    ...(p.widened.length > 0 ? [`widens access: ${roles(p.widened.length)}`] : []),
    ...(p.narrowed.length > 0 ? [`${p.widened.length > 0 ? "narrows" : "narrows access"}: ${roles(p.narrowed.length)}`] : []),
  ];
  const neutral = p.changes.filter((c) => c.effect === "neutral").length;
  if (parts.length === 0) return neutral > 0 ? `no access widened or narrowed; ${neutral} other change${neutral === 1 ? "" : "s"}` : "no change to access";
  return parts.join(", ");
}

export interface PlanGroup {
  /** "Whole policy", or the resource's name. */
  title: string;
  resource: string | undefined;
  changes: PlanChange[];
}

/** The changes by resource (the whole policy first), each group in the plan's order (widening first). */
export function planGroups(p: AccessPlan): PlanGroup[] {
  const groups = new Map<string, PlanGroup>();
  const policyWide = p.changes.filter((c) => c.resource === undefined);
  if (policyWide.length > 0) groups.set("", { title: "Whole policy (every role)", resource: undefined, changes: policyWide });
  for (const c of p.changes) {
    if (c.resource === undefined) continue;
    const group = groups.get(c.resource) ?? { title: c.resource, resource: c.resource, changes: [] };
    group.changes.push(c);
    groups.set(c.resource, group);
  }
  return [...groups.values()];
}

/** Rows the check shows at most; `jit plan` shows every one. */
export const MAX_PLAN_ROWS = 150;

/** The people column: from the team directory, when it was read. */
export function peopleText(c: PlanChange): string {
  if (!c.people) return "";
  if (c.people.length === 0) return "nobody new";
  const shown = c.people.slice(0, 10).join(", ");
  return c.people.length > 10 ? `${shown} and ${c.people.length - 10} more` : shown;
}

/**
 * The plan as Markdown for the check. Every name, value and sentence passes through the
 * template's escaping: role names are plain, but ticket patterns, descriptions and target
 * settings are whatever the policy's author wrote.
 */
export function planMarkdown(p: AccessPlan, base: string, wideningRequires: readonly string[] = []): string {
  // GitHub keeps 65,535 characters of a check's summary: a plan of a policy rewritten whole shows
  // its first rows (widening first) and says how many more there are.
  let room = MAX_PLAN_ROWS;
  const groups = planGroups(p).flatMap((g) => {
    const shown = g.changes.slice(0, Math.max(0, room));
    room -= shown.length;
    return shown.length === 0 ? [] : [{ title: g.title, rows: shown.map((c) => ({ icon: EFFECT_ICON[c.effect], role: c.role ?? (c.resource === undefined ? "all" : "all roles"), field: c.field, before: c.before, after: c.after, people: peopleText(c) })) }];
  });
  const hidden = p.changes.length - Math.min(p.changes.length, MAX_PLAN_ROWS);
  return renderTemplate("access-plan.md", {
    summary: planSummary(p),
    base,
    groups,
    hidden: hidden > 0 ? { count: hidden } : undefined,
    hasLiveGrants: p.liveGrants.length > 0,
    liveGrantsUnchecked: p.narrowed.length > 0 && !p.liveGrantsChecked,
    liveGrants: p.liveGrants.map((n) => ({ text: n.text, numbers: n.numbers.map((x) => `#${x}`).join(", ") })),
    wideningRequires: wideningRequires.length > 0 ? { groups: wideningRequires.join(", ") } : undefined,
  }).trim();
}
