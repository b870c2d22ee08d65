import { describe, expect, it } from "@jest/globals";
import { parseCodeowners } from "../../src/policy/codeowners.js";
import { loadPolicy } from "../../src/policy/load.js";
import { wideningAnnotations } from "../../src/plan/annotations.js";
import { plan } from "../../src/plan/plan.js";
import { planMarkdown, planSummary } from "../../src/present/plan.js";

const P = ".github/jit-access.yml";
const owners = parseCodeowners("CODEOWNERS", "* @acme/sec\n");
const BEFORE = `version: 1
resources:
  db:
    description: Production
    provider: postgres
    config: { url_env: JIT_DB }
    roles:
      rw:
        max_duration: 2h
        grant: { roles: [app_write] }
`;

function load(text: string) {
  const r = loadPolicy(P, text);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.policy;
}

describe("the plan as the check shows it", () => {
  it("escapes what the policy's author wrote: no table break, no link, no HTML, no mention", () => {
    const hostile = BEFORE.replace("description: Production", 'description: "x | y [click](https://evil.example) <img src=x> @acme/everyone"');
    const md = planMarkdown(plan(load(BEFORE), owners, load(hostile), owners), "main");
    const row = md.split("\n").find((l) => l.includes("description"))!;
    // Six cells, as the header has: the value's own `|` is escaped.
    expect(row.split(/(?<!\\)\|/).length - 2).toBe(6);
    expect(row).toContain("\\[click\\](https://evil.example)"); // brackets escaped: no link
    expect(row).toContain("\\<img src=x\\>");
    expect(row).toContain("@\u200bacme/everyone");
    expect(row).not.toMatch(/(?<!\\)<img/);
  });

  it("says when nothing changes, and counts roles", () => {
    expect(planSummary(plan(load(BEFORE), owners, load(BEFORE), owners))).toBe("no change to access");
    expect(planSummary(plan(load(BEFORE), owners, load(BEFORE.replace("Production", "Primary")), owners))).toBe("no access widened or narrowed; 1 other change");
    const twoRoles = BEFORE.replace("max_duration: 2h", "max_duration: 3h") + "      ro:\n        grant: { roles: [read] }\n";
    expect(planSummary(plan(load(BEFORE), owners, load(twoRoles), owners))).toBe("widens access: 2 roles");
  });
});

describe("annotations on the lines that widen", () => {
  it("from the key to the end of its value, one per line, naming each role it widens", () => {
    const after = BEFORE.replace("    roles:\n", "    roles:\n      admin:\n        max_duration: 30m\n        grant: { roles: [admin] }\n").replace("max_duration: 2h", "max_duration: 4h");
    const annotations = wideningAnnotations(plan(load(BEFORE), owners, load(after), owners), load(after).locate, P);
    expect(annotations.map((a) => [a.line, a.endLine, a.message])).toEqual([
      [12, 12, "widens access: db/rw: maximum duration: 2h → 4h"],
      [8, 10, "widens access: db/admin: new role: up to 30m, every group of @acme/sec × 1"],
    ]);
  });
});

describe("live grants", () => {
  it("a narrowing plan says when they were not checked, and not when they were", () => {
    const shorter = load(BEFORE.replace("max_duration: 2h", "max_duration: 1h"));
    const unchecked = "Live grants were not checked against the new policy";
    expect(planMarkdown(plan(load(BEFORE), owners, shorter, owners), "main")).toContain(unchecked);
    expect(planMarkdown(plan(load(BEFORE), owners, shorter, owners, undefined, []), "main")).not.toContain(unchecked);
    // Widening alone cannot disallow a live grant: nothing to say.
    expect(planMarkdown(plan(shorter, owners, load(BEFORE), owners), "main")).not.toContain(unchecked);
  });
});

describe("a plan too long for a check", () => {
  it("shows the first rows, widening first, and says how many more there are", () => {
    const roles = (n: number, max: string) => Array.from({ length: n }, (_, i) => `      r${i}:\n        max_duration: ${max}\n        grant: { roles: [r${i}] }\n`).join("");
    const policy = (max: string) => BEFORE.replace("    roles:\n", `    roles:\n${roles(200, max)}`);
    const md = planMarkdown(plan(load(policy("1h")), owners, load(policy("3h")), owners), "main");
    expect(md.split("\n").filter((l) => l.startsWith("| ⬆ |"))).toHaveLength(150);
    expect(md).toContain("…and 50 more changes, not shown here: `jit plan` on a checkout shows them all.");
  });
});
