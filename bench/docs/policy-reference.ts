/**
 * docs/reference/policy.md, drawn from schemas/policy.schema.json (itself generated from the TypeBox
 * definitions in src/schemas/) and the built-in defaults, so the page cannot drift from what the app
 * accepts. Pure: a schema and the defaults in, Markdown out. `npm run docs` writes it; the docs
 * test fails when the page differs from what this returns.
 */
type Schema = {
  type?: string;
  title?: string;
  description?: string;
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  pattern?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
};

export interface Row {
  path: string;
  type: string;
  required: boolean;
  default: string;
  meaning: string;
}

/** What a key of a mapping stands for, by the mapping's own name. */
const PLACEHOLDER: Record<string, string> = { resources: "<resource>", roles: "<role>" };
const DURATION = "^(?=[0-9])";

function typeOf(s: Schema): string {
  if (s.anyOf && s.anyOf.every((a) => a.const !== undefined)) return s.anyOf.map((a) => `\`${String(a.const)}\``).join(" or ");
  if (s.const !== undefined) return `\`${String(s.const)}\``;
  if (s.type === "string" && s.pattern?.startsWith(DURATION)) return "duration";
  if (s.type === "array" && s.items?.description?.startsWith("a team (@org/team)")) return `list of teams (\`@org/team\`) or users (\`@login\`)${s.minItems ? ` (at least ${s.minItems})` : ""}`;
  if (s.type === "array") return `list of ${s.items ? typeOf(s.items) : "values"}${s.minItems ? ` (at least ${s.minItems})` : ""}`;
  if (s.type === "integer" && s.minimum !== undefined && s.maximum !== undefined) return `integer ${s.minimum}–${s.maximum}`;
  if (s.type === "object" && s.patternProperties) return "mapping";
  return s.type ?? "any";
}

/**
 * What a field means, where the schema's own words only say its type. Keyed by the field's path with
 * `defaults.` and `resources.<resource>.roles.<role>.` taken off, so a role setting and its default
 * share one text.
 */
const NOTES: Record<string, string> = {
  version: "the policy format",
  defaults: "settings every role inherits; a role may set any of them itself",
  reason_min_length: "the fewest characters `reason` may have (surrounding spaces do not count)",
  merge: "`auto`: the app merges a request once it is approved; `manual`: a person merges it",
  approvals: "how many approvals a request needs",
  "approvals.min_per_group": "approvals needed from each approver group",
  "approvals.mode": "`all`: every CODEOWNERS group of the grant's path; `any`: one of them",
  ticket_pattern: "a regular expression the grant's `ticket` must match; setting it makes `ticket` required",
  auto_approve: "requesters in these teams or users need no approval",
  requesters: "who may request at all (teams or users); unset: anyone who can open a pull request",
  admins: "teams or users who may `/jit revoke` any grant",
  resources: "the targets people may ask access to",
  "resources.<resource>": "one target",
  "resources.<resource>.description": "shown to people; free text",
  "resources.<resource>.roles": "the levels of access people may ask for",
  "resources.<resource>.roles.<role>": "one level of access to the target",
  break_glass: "emergency grants (`emergency: true` in the grant file); without it, emergency grants are refused",
  "break_glass.approvers": "one approval from these teams or users replaces the normal approvals of an emergency grant",
  "break_glass.max_duration": "the longest an emergency grant may last",
  notifications: "where approvers hear about requests: Slack and Microsoft Teams incoming webhooks",
  "resources.<resource>.notifications": "this resource's own destinations, instead of the policy's",
};

function meaningOf(s: Schema, path: string): string {
  const key = path.replace(/^defaults\./, "").replace(/^resources\.<resource>\.roles\.<role>\./, "");
  const typeOnly = /^(a whole number|a duration such as|auto or manual|all or any|a list of teams|a non-empty list|a regular expression|a mapping of)/;
  const own = [s.title, s.description].filter((p): p is string => !!p && p !== String(s.const) && !typeOnly.test(p));
  return [...new Set([NOTES[key] ?? NOTES[path], ...own].filter((p): p is string => !!p))].join("; ");
}

function defaultOf(path: string, defaults: Record<string, unknown>): string {
  const key = path.replace(/^defaults\./, "").replace(/^resources\.<resource>\.roles\.<role>\./, "");
  if (key === path) return "";
  const value = key.split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), defaults);
  return value === undefined || typeof value === "object" ? "" : `\`${String(value)}\``;
}

/** Every field of the schema, depth first, in the schema's own order. */
export function policyRows(schema: Schema, defaults: Record<string, unknown>): Row[] {
  const rows: Row[] = [];
  const walk = (s: Schema, path: string, required: boolean) => {
    if (path) rows.push({ path, type: typeOf(s), required, default: defaultOf(path, defaults), meaning: meaningOf(s, path) });
    for (const [key, child] of Object.entries(s.properties ?? {})) walk(child, path ? `${path}.${key}` : key, s.required?.includes(key) ?? false);
    for (const child of Object.values(s.patternProperties ?? {})) {
      if (child.type !== "object") continue; // a provider's own settings: documented per provider
      const name = PLACEHOLDER[path.split(".").pop() ?? ""] ?? "<key>";
      walk(child, `${path}.${name}`, false);
    }
  };
  walk(schema, "", true);
  return rows;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function policyReference(schema: Schema, defaults: Record<string, unknown>): string {
  const rows = policyRows(schema, defaults);
  const table = rows.map((r) => `| \`${r.path}\` | ${cell(r.type)} | ${r.required ? "yes" : ""} | ${r.default} | ${cell(r.meaning)} |`);
  return `<!-- Generated by \`npm run docs\` from schemas/policy.schema.json: edit src/schemas/policy.ts, not this page. -->
# Policy reference

The policy is \`.github/jit-access.yml\` on the access repository's default branch; it is never read
from a pull request's head. Its JSON Schema is [\`schemas/policy.schema.json\`](../../schemas/policy.schema.json),
which editors can use for completion. Every field follows; \`<resource>\` and \`<role>\` stand for
names you choose (letters, digits, \`.\`, \`_\` and \`-\`, at most 64 characters, starting and ending
with a letter or digit).

| field | type | required | built-in default | meaning |
|---|---|---|---|---|
${table.join("\n")}

## How settings combine

A role's setting wins over \`defaults\`, and \`defaults\` over the built-in default. Durations are
written with the units \`d\`, \`h\` and \`m\`, in that order: \`30m\`, \`2h\`, \`1h30m\`, \`1d\`.

## What the schema cannot say

The app checks these too, each reported at its line and column:

- \`provider\` names a provider that exists, and \`config\` and each role's \`grant\` are that
  provider's settings: see [providers](../providers.md).
- Every \`*_env\` setting names an environment variable that starts with \`JIT_\`, so whoever can
  change the policy can only reach the variables the operator set aside for it, never the app's own.
- \`ticket_pattern\` compiles as RE2 syntax (it is matched in linear time, so no pattern can stall
  the app); lookarounds and backreferences, which RE2 cannot run, are refused. A ticket is at most
  200 characters.
- Durations are greater than zero.
- YAML anchors, aliases and explicit tags are refused, as are duplicate keys and files over 512 KiB.

A policy that fails any of this makes **every** request fail closed, with a check that says what to
fix. A pull request that changes the policy gets the same validation as its \`jit-access\` check, and
needs the approval of the policy file's CODEOWNERS groups: see [approvals](approvals.md#policy-changes).
`;
}
