import type { TSchema } from "@sinclair/typebox";
import type { ProviderDefinition, VerifiedKind } from "./types.js";

/**
 * docs/providers.md, drawn from the provider table (pure): the table of what each provider changes,
 * what ends at the target by itself and what it was verified against, then each provider's
 * settings from its own schemas. `npm run docs:providers` writes it; a test fails when the
 * committed file differs, so the page cannot drift from the code.
 */
export function renderProvidersDoc(providers: readonly ProviderDefinition[]): string {
  const lines = [
    "# Providers",
    "",
    "<!-- Generated from src/providers/table.ts by `npm run docs:providers`; edit the providers' `docs`, not this file. -->",
    "",
    "A provider applies and revokes one grant at one kind of target. Both are idempotent, and revoking",
    "never removes access the person held before the grant or still holds through another live grant",
    "(reference counting: each provider describes what it gives as *units*, and only units no one else",
    "accounts for are taken away).",
    "",
    "| Provider | What it gives | What it changes | What expires at the target itself | Verified against |",
    "|---|---|---|---|---|",
    ...providers.map((p) => `| ${p.docs.page ? `[\`${p.name}\`](${p.docs.page})` : `\`${p.name}\``} | ${cell(p.description)} | ${cell(p.docs.changes)} | ${cell(p.docs.expiresAtTarget)} | ${verified(p)} |`),
    "",
    "## Settings",
    "",
    "A resource names its provider and says where (`config`); each of its roles says what (`grant`).",
    "Secrets are never written in the policy: settings ending in `_env` name an environment variable",
    "of the jit-access server, starting with `JIT_`.",
    "",
  ];
  for (const p of providers) {
    lines.push(`### \`${p.name}\``, "", ...settings("config", p.config), ...settings("grant", p.grant));
  }
  lines.push(
    "## Writing a provider",
    "",
    "A provider is one module and one line:",
    "",
    "1. `src/providers/<name>.ts` exports a `ProviderDefinition` (src/providers/types.ts): its `name`,",
    "   a one-line `description`, its `docs` (what it changes, what expires at the target itself, what",
    "   its tests run against), the TypeBox schemas of its `config` and `grant`, and `create`, which",
    "   builds the `Provider`: `units` (what a grant gives, as comparable keys), `held` (which of those",
    "   the person has now, read before applying), `apply` and `revoke` (both idempotent; revoke takes",
    "   only the units it is given).",
    "2. One entry in `PROVIDERS` in src/providers/table.ts. The policy check, `jit validate`, the",
    "   executor, the JSON schema and this page all read that table.",
    "3. An example `config` and `grant` in test/providers/table.test.ts, and tests of its own: against",
    "   the real server where one exists as a Debian package (started by the test on a loopback port),",
    "   otherwise against a strict fake in testkit/ that says it is one — here and on its page.",
    "4. `npm run docs:providers` and `npm run schemas` regenerate this page and schemas/.",
    "",
    "Failures are `ProviderError`s: their message is shown on the pull request, so it passes through",
    "`shownSafe` and names no host, port, user, path or secret; `detail` says more, for the log only.",
    "",
  );
  return lines.join("\n");
}

/** How each kind of verification reads in the table; a fake says it is not the real service. */
export const VERIFIED_LABELS: Readonly<Record<VerifiedKind, string>> = {
  "real server": "**real server**",
  "local scripts": "**local scripts**",
  fake: "**fake**, not the real service",
  "mocked API": "**mocked API**",
};

function verified(p: ProviderDefinition): string {
  const { kind, how } = p.docs.verifiedAgainst;
  return `${VERIFIED_LABELS[kind]}: ${cell(how)}`;
}

/** A Markdown table cell: a pipe would end it, a newline would end the row. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
}

/** The keys of an object schema as a list: name, whether required, and what it is. */
function settings(where: "config" | "grant", schema: TSchema): string[] {
  const properties = (schema as { properties?: Record<string, TSchema> }).properties;
  if (!properties) {
    const description = (schema as { description?: string }).description;
    return [`- \`${where}\`: ${description ?? "any keys"}`, ""];
  }
  const required = new Set((schema as { required?: string[] }).required ?? []);
  const keys = Object.entries(properties);
  if (keys.length === 0) return [`- \`${where}\`: nothing (\`{}\`)`, ""];
  return [
    ...keys.map(([key, s]) => {
      const words = (s as { title?: string; description?: string }).title ?? (s as { description?: string }).description ?? "";
      return `- \`${where}.${key}\`${required.has(key) ? "" : " (optional)"}: ${cell(words)}`;
    }),
    "",
  ];
}
