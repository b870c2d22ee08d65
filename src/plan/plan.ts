import { formatDuration } from "../grant/duration.js";
import { ownersOf, type Codeowners } from "../policy/codeowners.js";
import type { EffectiveRole, LoadedPolicy } from "../policy/load.js";
import { POLICY_PATH } from "../policy/paths.js";
import type { YamlPath } from "../yaml/safe-parse.js";
import { liveGrantNotes } from "./live.js";
import type { AccessPlan, Directory, Effect, PlanChange, PlannedGrant } from "./types.js";

/**
 * What a change of the policy and CODEOWNERS does to access (issue: an access plan on every
 * policy change). Pure: two policies (either may be missing: none yet, or one that does not
 * load), two CODEOWNERS, and optionally the team directory and the live grants. Every rule that
 * classifies a change is symmetric, so plan(a, b) is plan(b, a) with before and after swapped and
 * widening and narrowing exchanged.
 */
export function plan(
  oldPolicy: LoadedPolicy | undefined,
  oldCodeowners: Codeowners | null | undefined,
  newPolicy: LoadedPolicy | undefined,
  newCodeowners: Codeowners | null | undefined,
  directory?: Directory,
  liveGrants?: readonly PlannedGrant[],
): AccessPlan {
  const d = new Differ(directory);
  policyWide(d, oldPolicy, newPolicy, oldCodeowners ?? null, newCodeowners ?? null);
  const resources = union(Object.keys(oldPolicy?.raw.resources ?? {}), Object.keys(newPolicy?.raw.resources ?? {}));
  for (const resource of resources) resourceChanges(d, resource, oldPolicy, newPolicy, oldCodeowners ?? null, newCodeowners ?? null);

  const rank: Record<Effect, number> = { widening: 0, narrowing: 1, neutral: 2 };
  const changes = d.changes.map((c, i) => [c, i] as const).sort(([a, i], [b, j]) => rank[a.effect] - rank[b.effect] || i - j).map(([c]) => c);
  const everyRole = union(roleKeys(oldPolicy), roleKeys(newPolicy));
  const touched = (effect: Effect) => union(...changes.filter((c) => c.effect === effect).map((c) => (c.resource === undefined ? everyRole : c.role === undefined ? everyRole.filter((k) => k.startsWith(`${c.resource}/`)) : [`${c.resource}/${c.role}`])));
  const notes = newPolicy && liveGrants ? liveGrantNotes(newPolicy, liveGrants, directory) : [];
  return { changes, liveGrants: notes, liveGrantsChecked: liveGrants !== undefined, widened: touched("widening"), narrowed: touched("narrowing") };
}

/** Whether a plan widens access anywhere. */
export function widens(p: AccessPlan): boolean {
  return p.changes.some((c) => c.effect === "widening");
}

const NONE = "—";

class Differ {
  readonly changes: PlanChange[] = [];
  constructor(private readonly directory: Directory | undefined) {}

  add(change: PlanChange): void {
    this.changes.push(change);
  }

  /** A value that can be ordered: more is wider (`widerWhen: "more"`) or narrower. */
  ordered(scope: Scope, field: string, before: number, after: number, show: (v: number) => string, widerWhen: "more" | "less", what: string, where?: YamlPath): void {
    if (before === after) return;
    const wider = widerWhen === "more" ? after > before : after < before;
    this.add({ ...scope, field, effect: wider ? "widening" : "narrowing", before: show(before), after: show(after), text: `${what}: ${show(before)} → ${show(after)}`, ...(where ? { where } : {}) });
  }

  /** A value that widens nothing and narrows nothing, or that cannot be told (a changed target). */
  neutral(scope: Scope, field: string, before: string, after: string, what: string, where?: YamlPath): void {
    if (before === after) return;
    this.add({ ...scope, field, effect: "neutral", before, after, text: `${what}: ${before} → ${after}`, ...(where ? { where } : {}) });
  }

  /**
   * A list of teams and users: each one added is one entry, each one removed another, so a change
   * that adds one and removes another shows both. `addedIs`: what adding one does.
   */
  members(scope: Scope, field: string, before: readonly string[], after: readonly string[], addedIs: Effect, what: string, where?: YamlPath): void {
    const lower = (list: readonly string[]) => [...new Set(list.map((g) => g.toLowerCase()))];
    const [b, a] = [lower(before), lower(after)];
    const removedIs: Effect = addedIs === "widening" ? "narrowing" : addedIs === "narrowing" ? "widening" : "neutral";
    for (const group of a.filter((g) => !b.includes(g))) {
      this.add({ ...scope, field, effect: addedIs, before: NONE, after: group, text: `${what}: adds ${group}`, ...(where ? { where } : {}), ...this.people(group, b) });
    }
    for (const group of b.filter((g) => !a.includes(g))) {
      this.add({ ...scope, field, effect: removedIs, before: group, after: NONE, text: `${what}: removes ${group}`, ...this.people(group, a) });
    }
  }

  /** The members of a team that the other side's list does not already cover, when the directory knows the team. */
  private people(group: string, others: readonly string[]): { people?: string[] } {
    const members = this.directory?.get(group);
    // A team on the other side that the directory does not know may cover anyone: no count then.
    if (!this.directory || !members || others.some((g) => g.includes("/") && !this.directory!.has(g))) return {};
    const covered = new Set(others.flatMap((g) => (g.includes("/") ? (this.directory!.get(g) ?? []) : [g.slice(1)])).map((l) => l.toLowerCase()));
    return { people: [...new Set(members.map((m) => m.toLowerCase()))].filter((m) => !covered.has(m)).sort() };
  }
}

interface Scope {
  resource?: string;
  role?: string;
}

function policyWide(d: Differ, o: LoadedPolicy | undefined, n: LoadedPolicy | undefined, oc: Codeowners | null, nc: Codeowners | null): void {
  const all: Scope = {};
  if (o?.requesters === undefined || n?.requesters === undefined) {
    // No list: anyone who can open a pull request may ask. A list only narrows that.
    const show = (p: LoadedPolicy | undefined) => (p === undefined ? NONE : p.requesters === undefined ? "anyone" : list(p.requesters));
    if (o && n && show(o) !== show(n)) {
      const effect = n.requesters === undefined ? "widening" : "narrowing";
      d.add({ ...all, field: "requesters", effect, before: show(o), after: show(n), text: `who may request: ${show(o)} → ${show(n)}`, ...(n.requesters ? { where: ["requesters"] } : {}) });
    }
  } else {
    d.members(all, "requesters", o.requesters, n.requesters, "widening", "who may request", ["requesters"]);
  }
  d.members(all, "admins", o?.admins ?? [], n?.admins ?? [], "widening", "who may revoke any grant", ["admins"]);

  const [ob, nb] = [o?.breakGlass, n?.breakGlass];
  if (ob && nb) {
    d.members(all, "break_glass.approvers", ob.approvers, nb.approvers, "widening", "who may approve a break-glass request alone", ["break_glass", "approvers"]);
    d.ordered(all, "break_glass.max_duration", ob.maxDurationMs, nb.maxDurationMs, formatDuration, "more", "break-glass maximum duration", ["break_glass", "max_duration"]);
  } else if (ob || nb) {
    const show = (b: typeof ob) => (b ? `${list(b.approvers)} approve alone, up to ${formatDuration(b.maxDurationMs)}` : "off");
    d.add({ ...all, field: "break_glass", effect: nb ? "widening" : "narrowing", before: show(ob), after: show(nb), text: `break-glass: ${show(ob)} → ${show(nb)}`, ...(nb ? { where: ["break_glass"] } : {}) });
  }

  d.members(all, "changes.widening_requires", o?.wideningRequires ?? [], n?.wideningRequires ?? [], "narrowing", "who must also approve a policy change that widens access", ["changes", "widening_requires"]);
  d.neutral(all, "notifications", json(o?.raw.notifications), json(n?.raw.notifications), "notifications", ["notifications"]);
  approvers(d, all, "approvers of policy changes", ownersIn(oc, POLICY_PATH), ownersIn(nc, POLICY_PATH), false);
}

function resourceChanges(d: Differ, resource: string, o: LoadedPolicy | undefined, n: LoadedPolicy | undefined, oc: Codeowners | null, nc: Codeowners | null): void {
  const [or, nr] = [o?.resource(resource), n?.resource(resource)];
  const scope: Scope = { resource };
  const at = ["resources", resource];
  if (or && nr) {
    d.neutral(scope, "provider", or.provider, nr.provider, "provider (what its grants touch)", [...at, "provider"]);
    d.neutral(scope, "config", json(or.config), json(nr.config), "target settings (what its grants touch)", [...at, "config"]);
    d.neutral(scope, "description", json(or.description), json(nr.description), "description", [...at, "description"]);
    d.neutral(scope, "notifications", json(or.notifications), json(nr.notifications), "notifications", [...at, "notifications"]);
  }
  for (const role of union(Object.keys(or?.roles ?? {}), Object.keys(nr?.roles ?? {}))) {
    const [before, after] = [o?.role(resource, role), n?.role(resource, role)];
    const roleScope: Scope = { resource, role };
    if (before && after) roleChanges(d, roleScope, before, after, n!, oc, nc);
    else if (after) d.add({ ...roleScope, field: "role", effect: "widening", before: NONE, after: describeRole(after, nc), text: `${or ? "new role" : "new resource"}: ${describeRole(after, nc)}`, where: [...at, "roles", role] });
    else if (before) d.add({ ...roleScope, field: "role", effect: "narrowing", before: describeRole(before, oc), after: NONE, text: `${nr ? "role removed" : "resource removed"} (it allowed ${describeRole(before, oc)})` });
  }
}

function roleChanges(d: Differ, scope: Scope, o: EffectiveRole, n: EffectiveRole, policy: LoadedPolicy, oc: Codeowners | null, nc: Codeowners | null): void {
  const where = (...field: string[]) => settingPath(policy, n.resource, n.role, field);
  d.ordered(scope, "max_duration", o.maxDurationMs, n.maxDurationMs, formatDuration, "more", "maximum duration", where("max_duration"));
  d.ordered(scope, "approvals.min_per_group", o.approvals.minPerGroup, n.approvals.minPerGroup, String, "less", "approvals needed per group", where("approvals", "min_per_group"));
  if (o.approvals.mode !== n.approvals.mode) {
    const wider = n.approvals.mode === "any";
    d.add({ ...scope, field: "approvals.mode", effect: wider ? "widening" : "narrowing", before: o.approvals.mode, after: n.approvals.mode, text: `approval mode: ${modeText(o.approvals.mode)} → ${modeText(n.approvals.mode)}`, where: where("approvals", "mode") });
  }
  d.members(scope, "auto_approve", o.autoApprove, n.autoApprove, "widening", "auto-approved (no approval needed)", where("auto_approve"));
  const [op, np] = [o.ticketPattern?.source, n.ticketPattern?.source];
  if (op === undefined || np === undefined) {
    if (op !== np) d.add({ ...scope, field: "ticket_pattern", effect: np === undefined ? "widening" : "narrowing", before: op ?? "no ticket needed", after: np ?? "no ticket needed", text: `ticket: ${op === undefined ? "not needed" : `must match ${op}`} → ${np === undefined ? "not needed" : `must match ${np}`}`, where: where("ticket_pattern") });
  } else {
    // Two patterns cannot be ordered in general: shown, for the reviewer to judge.
    d.neutral(scope, "ticket_pattern", op, np, "ticket pattern", where("ticket_pattern"));
  }
  d.ordered(scope, "reason_min_length", o.reasonMinLength, n.reasonMinLength, String, "less", "shortest reason", where("reason_min_length"));
  // A request left open longer has longer to gather approvals: more time is wider.
  d.ordered(scope, "pending_timeout", o.pendingTimeoutMs, n.pendingTimeoutMs, formatDuration, "more", "pending timeout", where("pending_timeout"));
  if (o.merge !== n.merge) {
    d.add({ ...scope, field: "merge", effect: n.merge === "auto" ? "widening" : "narrowing", before: o.merge, after: n.merge, text: `merge: ${o.merge} → ${n.merge}${n.merge === "manual" ? " (a person merges an approved request)" : " (the app merges an approved request)"}`, where: where("merge") });
  }
  d.neutral(scope, "expiry_warning", formatDuration(o.expiryWarningMs), formatDuration(n.expiryWarningMs), "expiry warning", where("expiry_warning"));
  d.neutral(scope, "grant", json(o.grant), json(n.grant), "what it grants", ["resources", n.resource, "roles", n.role, "grant"]);
  // Mode any if either side has it, so the rule is the same read both ways (plan(a,b) mirrors plan(b,a)).
  const anyMode = o.approvals.mode === "any" || n.approvals.mode === "any";
  const path = grantPathOf(n.resource);
  approvers(d, scope, `approvers (CODEOWNERS of grants/${n.resource}/)`, ownersIn(oc, path), ownersIn(nc, path), anyMode);
}

/**
 * Approver groups from CODEOWNERS. Under mode all every group must approve, so one more group is
 * narrower; under mode any one group is enough, so one more is wider. No group at all fails closed.
 */
function approvers(d: Differ, scope: Scope, what: string, before: string[], after: string[], anyMode: boolean): void {
  if (before.length === 0 || after.length === 0) {
    if (before.length === after.length) return;
    const show = (l: string[]) => (l.length === 0 ? "nobody (fails closed)" : list(l));
    d.add({ ...scope, field: "approvers", effect: after.length === 0 ? "narrowing" : "widening", before: show(before), after: show(after), text: `${what}: ${show(before)} → ${show(after)}` });
    return;
  }
  d.members(scope, "approvers", before, after, anyMode ? "widening" : "narrowing", what);
}

/**
 * A grant file of the role, as CODEOWNERS sees it. Grant files are named freely inside their
 * resource's folder, and CODEOWNERS rules are written per folder: one name stands for them all.
 */
export function grantPathOf(resource: string): string {
  return `grants/${resource}/grant.yaml`;
}

/**
 * A path's owners, remembered per CODEOWNERS (each role of a resource asks for the same path):
 * matching is most of a plan's cost on a large CODEOWNERS, and a plan runs on every evaluation.
 */
const ownersByFile = new WeakMap<Codeowners, Map<string, string[]>>();
function ownersIn(codeowners: Codeowners | null, path: string): string[] {
  if (!codeowners) return [];
  let known = ownersByFile.get(codeowners);
  if (!known) ownersByFile.set(codeowners, (known = new Map()));
  let owners = known.get(path);
  if (!owners) known.set(path, (owners = ownersOf(codeowners, path).owners));
  return owners;
}

/** Where a role's setting comes from in the new file: the role, else `defaults`, else the role itself (a built-in default). */
function settingPath(policy: LoadedPolicy, resource: string, role: string, field: string[]): YamlPath {
  const roleAt = ["resources", resource, "roles", role];
  const has = (value: unknown, path: string[]) => path.reduce<unknown>((v, k) => (v && typeof v === "object" && Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined), value) !== undefined;
  if (has(policy.resource(resource)?.roles[role], field)) return [...roleAt, ...field];
  if (has(policy.raw.defaults, field)) return ["defaults", ...field];
  return roleAt;
}

function describeRole(role: EffectiveRole, codeowners: Codeowners | null): string {
  const groups = ownersIn(codeowners, grantPathOf(role.resource));
  const auto = role.autoApprove.length > 0 ? `, auto-approves ${list(role.autoApprove)}` : "";
  return `up to ${formatDuration(role.maxDurationMs)}, ${modeText(role.approvals.mode)} of ${groups.length > 0 ? list(groups) : "nobody"} × ${role.approvals.minPerGroup}${auto}`;
}

function modeText(mode: "all" | "any"): string {
  return mode === "all" ? "every group" : "any one group";
}

function list(items: readonly string[]): string {
  return items.length === 0 ? "nobody" : items.join(", ");
}

/** Stable text for a settings object (keys sorted), or `—`. */
function json(value: unknown): string {
  if (value === undefined) return NONE;
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])])) : v;
  return JSON.stringify(sort(value));
}

function roleKeys(p: LoadedPolicy | undefined): string[] {
  return Object.entries(p?.raw.resources ?? {}).flatMap(([r, res]) => Object.keys(res.roles).map((role) => `${r}/${role}`));
}

function union(...lists: readonly string[][]): string[] {
  return [...new Set(lists.flat())];
}
