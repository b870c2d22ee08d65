import { performance } from "node:perf_hooks";
import { parseCodeowners } from "../src/policy/codeowners.js";
import { loadPolicy } from "../src/policy/load.js";
import { plan } from "../src/plan/plan.js";
import { planMarkdown } from "../src/present/plan.js";
import { fmt, summarize } from "./stats.js";
import { bigPolicy } from "./validate-grant.js";

/**
 * The access plan of a change to a large policy (200 resources, 600 roles) and a CODEOWNERS of
 * 200 rules: what every evaluation of a policy pull request computes (twice: the snapshot's draft,
 * then the decision, and again per membership round), and what the check's Markdown costs.
 */
export function benchAccessPlan(iterations = 50): string[] {
  const before = bigPolicy();
  const after = before.replace(/max_duration: 4h/g, (m, offset: number) => (offset % 7 === 0 ? "max_duration: 6h" : m)).replace("reason_min_length: 10", "reason_min_length: 5");
  const load = (text: string) => {
    const r = loadPolicy(".github/jit-access.yml", text);
    if (!r.ok) throw new Error(`benchmark policy is invalid: ${r.diagnostics[0]?.message}`);
    return r.policy;
  };
  const [a, b] = [load(before), load(after)];
  const rules = Array.from({ length: 200 }, (_, i) => `/grants/svc-${i}/ @acme/team-${i % 20}`).join("\n");
  // Parsed afresh for every run, as the head's CODEOWNERS is on every evaluation: no path's owners are known yet.
  const owners = () => [parseCodeowners("CODEOWNERS", `* @acme/security\n${rules}\n`), parseCodeowners("CODEOWNERS", `* @acme/security\n${rules.replace("@acme/team-3\n", "@acme/team-3 @acme/dba\n")}\n`)] as const;
  for (let i = 0; i < 5; i++) plan(a, owners()[0], b, owners()[1]); // warm-up
  const planned: number[] = [];
  const drawn: number[] = [];
  let changes = 0;
  for (let i = 0; i < iterations; i++) {
    const [oldOwners, newOwners] = owners();
    let t = performance.now();
    const p = plan(a, oldOwners, b, newOwners);
    planned.push(performance.now() - t);
    changes = p.changes.length;
    t = performance.now();
    planMarkdown(p, "main");
    drawn.push(performance.now() - t);
  }
  const s = summarize(planned);
  const d = summarize(drawn);
  return [
    `plan(): 600 roles, 200 CODEOWNERS rules, ${changes} changes — median ${fmt(s.median)} ms, max ${fmt(s.max)} ms (${iterations} runs)`,
    `the check's Markdown of that plan — median ${fmt(d.median)} ms, max ${fmt(d.max)} ms`,
  ];
}
