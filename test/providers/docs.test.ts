import { describe, expect, it } from "@jest/globals";
import { existsSync, readFileSync } from "node:fs";
import { renderProvidersDoc, VERIFIED_LABELS } from "../../src/providers/docs.js";
import { PROVIDERS as TABLE } from "../../src/providers/table.js";
import type { ProviderDefinition } from "../../src/providers/types.js";

const PROVIDERS: readonly ProviderDefinition[] = TABLE;

const docs = new URL("../../docs/", import.meta.url);

describe("docs/providers.md", () => {
  it("is exactly what the provider table generates (run `npm run docs:providers`)", () => {
    expect(readFileSync(new URL("providers.md", docs), "utf8")).toBe(renderProvidersDoc(PROVIDERS));
  });

  it("has a row per provider, saying whether it was verified against a real server or a fake", () => {
    const rendered = renderProvidersDoc(PROVIDERS);
    for (const p of PROVIDERS) {
      const row = rendered.split("\n").find((line) => line.startsWith(`| \`${p.name}\``) || line.startsWith(`| [\`${p.name}\`]`));
      expect(row).toBeDefined();
      expect(row).toContain(VERIFIED_LABELS[p.docs.verifiedAgainst.kind]);
      if (p.docs.verifiedAgainst.kind === "fake") expect(row).toContain("not the real service");
    }
  });

  it.each(PROVIDERS.filter((p) => p.docs.page).map((p) => [p.name, p.docs.page!] as const))("%s: its page exists, and says it was verified against a fake when it was", (name, page) => {
    const url = new URL(page, docs);
    expect(existsSync(url)).toBe(true);
    const text = readFileSync(url, "utf8");
    expect(text).toContain(`# \`${name}\``);
    const kind = PROVIDERS.find((p) => p.name === name)!.docs.verifiedAgainst.kind;
    if (kind === "fake") expect(text).toMatch(/Verified against an in-repo fake/);
  });

  it("escapes what would break a table row", () => {
    const base = PROVIDERS[0]!;
    const odd = { ...base, name: "odd", docs: { ...base.docs, changes: "a | b\nc" } };
    expect(renderProvidersDoc([odd])).toContain("| a \\| b c |");
  });
});
