import { sortDiagnostics, type Diagnostic } from "../diagnostics.js";
import { parseDuration } from "../grant/duration.js";
import { PROVIDERS, PROVIDER_NAMES } from "../providers/table.js";
import { PolicySchema, type Policy, type Resource, type RoleSettings } from "../schemas/policy.js";
import { schemaCheck, type SchemaCheck } from "../schemas/validate.js";
import { parseYamlMapping, type Locator } from "../yaml/safe-parse.js";
import { MAX_POLICY_BYTES } from "./paths.js";
import { compileTicketPattern, ticketPatternProblem, type TicketPattern } from "./ticket-pattern.js";

/** A role with every setting resolved: the role's own, else `defaults`, else the built-in default. */
export interface EffectiveRole {
  resource: string;
  role: string;
  provider: string;
  config: Record<string, unknown>;
  grant: Record<string, unknown>;
  maxDurationMs: number;
  reasonMinLength: number;
  pendingTimeoutMs: number;
  expiryWarningMs: number;
  merge: "auto" | "manual";
  approvals: { minPerGroup: number; mode: "all" | "any" };
  ticketPattern: TicketPattern | undefined;
  autoApprove: string[];
  /** Whether Slack's Approve and Reject buttons may decide this role's requests (default true). */
  approveInChat: boolean;
}

export interface LoadedPolicy {
  raw: Policy;
  /**
   * A resource by name. Names come from grant files: look them up here (a Map), never by
   * indexing `raw.resources`, where `constructor` or `toString` would find an inherited property.
   */
  resource(name: string): Resource | undefined;
  role(resource: string, role: string): EffectiveRole | undefined;
  /** `approveInChat`: break-glass requests may be decided from Slack only where the policy says so. */
  breakGlass: { approvers: string[]; maxDurationMs: number; approveInChat: boolean } | undefined;
  requesters: string[] | undefined;
  admins: string[];
  /** `changes.widening_requires`: groups a change that widens access needs besides the policy's owners. */
  wideningRequires: string[];
  /** Where each value stands in the file it was loaded from (for annotations on its lines). */
  locate?: Locator;
}

export type PolicyResult = { ok: true; policy: LoadedPolicy } | { ok: false; diagnostics: Diagnostic[] };

/** Used where neither the role nor `defaults` says otherwise; documented in docs/reference/policy.md. */
export const BUILTIN_DEFAULTS = {
  max_duration: "8h",
  reason_min_length: 10,
  pending_timeout: "24h",
  expiry_warning: "10m",
  merge: "auto",
  approvals: { min_per_group: 1, mode: "all" },
} as const;

const checkPolicySchema: SchemaCheck<Policy> = schemaCheck<Policy>(PolicySchema);
/** A Map, not an object: `provider: constructor` must find nothing, not Object's constructor. */
const providerChecks = new Map(
  PROVIDERS.map((p) => [p.name as string, { config: schemaCheck(p.config), grant: schemaCheck(p.grant) }]),
);

/** Parses, schema-checks and cross-checks a policy file. Never throws. */
export function loadPolicy(path: string, content: Uint8Array | string): PolicyResult {
  const parsed = parseYamlMapping(path, content, { maxBytes: MAX_POLICY_BYTES });
  if (!parsed.ok) return parsed;
  const checked = checkPolicySchema(parsed.value, path, parsed.locate);
  if (!checked.ok) return checked;
  const policy = checked.value;
  const diagnostics = crossCheck(policy, path, parsed.locate);
  if (diagnostics.length > 0) return { ok: false, diagnostics: sortDiagnostics(diagnostics) };
  return { ok: true, policy: compile(policy, parsed.locate) };
}

/** What the schema cannot say: providers exist and get valid settings, patterns compile and are safe, durations are positive. */
function crossCheck(policy: Policy, path: string, locate: Locator): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (where: (string | number)[], message: string) => out.push({ path, message, ...locate.value(where) });
  const positive = (where: (string | number)[], text: string | undefined) => {
    if (text !== undefined && !(parseDuration(text)! > 0)) at(where, `${where.join(".")} must be longer than 0m`);
  };
  const checkSettings = (where: (string | number)[], s: RoleSettings | undefined) => {
    if (!s) return;
    positive([...where, "max_duration"], s.max_duration);
    positive([...where, "pending_timeout"], s.pending_timeout);
    if (s.ticket_pattern !== undefined) {
      const problem = ticketPatternProblem(s.ticket_pattern);
      const field = problem?.startsWith("is not a valid") ? "ticket_pattern" : [...where, "ticket_pattern"].join(".");
      if (problem) at([...where, "ticket_pattern"], `${field} ${problem}`);
    }
  };
  checkSettings(["defaults"], policy.defaults);
  positive(["break_glass", "max_duration"], policy.break_glass?.max_duration);
  for (const [name, resource] of Object.entries(policy.resources)) {
    const checks = providerChecks.get(resource.provider);
    if (!checks) {
      at(["resources", name, "provider"], `unknown provider "${resource.provider}"; known providers: ${PROVIDER_NAMES.join(", ")}`);
      continue;
    }
    const config = checks.config(resource.config ?? {}, path, prefixed(locate, ["resources", name, "config"]));
    if (!config.ok) out.push(...config.diagnostics.map((d) => ({ ...d, message: `${name}.config: ${d.message}` })));
    for (const [roleName, role] of Object.entries(resource.roles)) {
      checkSettings(["resources", name, "roles", roleName], role);
      const where = ["resources", name, "roles", roleName, "grant"];
      const grant = checks.grant(role.grant ?? {}, path, prefixed(locate, where));
      if (!grant.ok) out.push(...grant.diagnostics.map((d) => ({ ...d, message: `${name}.${roleName}.grant: ${d.message}` })));
    }
  }
  return out;
}

/** A locator for a sub-document, so nested schema checks still point at the right lines. */
function prefixed(locate: Locator, prefix: (string | number)[]): Locator {
  return { value: (p) => locate.value([...prefix, ...p]), key: (p) => locate.key([...prefix, ...p]) };
}

function compile(policy: Policy, locate: Locator): LoadedPolicy {
  const d = policy.defaults ?? {};
  const ms = (text: string) => parseDuration(text)!;
  const roles = new Map<string, EffectiveRole>();
  const resources = new Map(Object.entries(policy.resources));
  for (const [resourceName, resource] of resources) {
    for (const [roleName, r] of Object.entries(resource.roles)) {
      const pattern = r.ticket_pattern ?? d.ticket_pattern;
      roles.set(`${resourceName}\u0000${roleName}`, {
        resource: resourceName,
        role: roleName,
        provider: resource.provider,
        config: resource.config ?? {},
        grant: r.grant ?? {},
        maxDurationMs: ms(r.max_duration ?? d.max_duration ?? BUILTIN_DEFAULTS.max_duration),
        reasonMinLength: r.reason_min_length ?? d.reason_min_length ?? BUILTIN_DEFAULTS.reason_min_length,
        pendingTimeoutMs: ms(r.pending_timeout ?? d.pending_timeout ?? BUILTIN_DEFAULTS.pending_timeout),
        expiryWarningMs: ms(r.expiry_warning ?? d.expiry_warning ?? BUILTIN_DEFAULTS.expiry_warning),
        merge: r.merge ?? d.merge ?? BUILTIN_DEFAULTS.merge,
        approvals: {
          minPerGroup: r.approvals?.min_per_group ?? d.approvals?.min_per_group ?? BUILTIN_DEFAULTS.approvals.min_per_group,
          mode: r.approvals?.mode ?? d.approvals?.mode ?? BUILTIN_DEFAULTS.approvals.mode,
        },
        ticketPattern: pattern === undefined ? undefined : compileTicketPattern(pattern),
        autoApprove: r.auto_approve ?? d.auto_approve ?? [],
        approveInChat: r.approve_in_chat ?? d.approve_in_chat ?? true,
      });
    }
  }
  return {
    raw: policy,
    resource: (name) => resources.get(name),
    role: (resource, role) => roles.get(`${resource}\u0000${role}`),
    breakGlass: policy.break_glass && { approvers: policy.break_glass.approvers, maxDurationMs: ms(policy.break_glass.max_duration), approveInChat: policy.break_glass.approve_in_chat ?? false },
    requesters: policy.requesters,
    admins: policy.admins ?? [],
    wideningRequires: (policy.changes?.widening_requires ?? []).map((g) => g.toLowerCase()),
    locate,
  };
}
