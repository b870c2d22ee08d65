import { performance } from "node:perf_hooks";
import { parseGrant } from "../src/grant/parse.js";
import { checkGrantRules } from "../src/grant/rules.js";
import { loadPolicyCached } from "../src/github/snapshot.js";
import { loadPolicy } from "../src/policy/load.js";
import { fmt, summarize } from "./stats.js";

/** A realistic large policy: 200 resources over the three providers, three roles each. */
export function bigPolicy(resources = 200): string {
  const lines = ["version: 1", "defaults:", "  max_duration: 8h", "  reason_min_length: 10", "requesters: [\"@acme/engineering\"]", "break_glass:", "  approvers: [\"@acme/oncall\"]", "  max_duration: 1h", "resources:"];
  for (let i = 0; i < resources; i++) {
    const kind = i % 3;
    lines.push(`  svc-${i}:`, `    description: Service ${i}`);
    if (kind === 0) lines.push("    provider: postgres", `    config: { url_env: JIT_DB_${i}_URL }`);
    if (kind === 1) lines.push("    provider: github-team", `    config: { org: acme, team: svc-${i}-admins }`);
    if (kind === 2) lines.push("    provider: webhook", `    config: { url_env: JIT_HOOK_${i}_URL, secret_env: JIT_HOOK_${i}_SECRET }`);
    lines.push("    roles:");
    for (const role of ["read-only", "read-write", "admin"]) {
      lines.push(`      ${role}:`, "        max_duration: 4h", '        ticket_pattern: "^(INC|CHG)-[0-9]+$"');
      if (kind === 0) lines.push(`        grant: { roles: [svc_${i}_${role.replace("-", "_")}] }`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export function benchValidateGrant(iterations = 20_000) {
  const policyText = bigPolicy();
  const loaded = loadPolicy(".github/jit-access.yml", policyText);
  if (!loaded.ok) throw new Error(`benchmark policy is invalid: ${loaded.diagnostics[0]?.message}`);
  const policy = loaded.policy;
  const grants = Array.from({ length: 200 }, (_, i) => ({
    path: `grants/svc-${i}/alice-${i}.yaml`,
    text: `requester: alice\nresource: svc-${i}\nrole: read-only\nduration: 2h\nreason: "Investigate INC-${4000 + i}: slow checkout queries"\nticket: INC-${4000 + i}\n`,
  }));
  const facts = { author: "alice", requestedAt: new Date(), requesterAllowed: true };
  const one = (i: number) => {
    const g = grants[i % grants.length]!;
    const parsed = parseGrant(g.path, g.text);
    if (!parsed.ok) throw new Error(parsed.diagnostics[0]!.message);
    const { diagnostics } = checkGrantRules(parsed, policy, facts);
    if (diagnostics.length) throw new Error(diagnostics[0]!.message);
  };
  for (let i = 0; i < 2_000; i++) one(i); // warm-up: JIT compilation, ajv caches
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    one(i);
    samples.push(performance.now() - t);
  }
  const elapsed = performance.now() - started;
  const s = summarize(samples);

  const policySamples: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    loadPolicy(".github/jit-access.yml", policyText);
    policySamples.push(performance.now() - t);
  }
  const p = summarize(policySamples);
  const bytes = new TextEncoder().encode(policyText);
  loadPolicyCached("bench-sha", bytes);
  const cachedSamples: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t = performance.now();
    loadPolicyCached("bench-sha", bytes);
    cachedSamples.push(performance.now() - t);
  }
  const c = summarize(cachedSamples);
  return [
    `validate one grant (parse + schema + rules), policy of 200 resources, ${s.n} runs:`,
    `  median ${fmt(s.median)} ms, p99 ${fmt(s.p99)} ms per grant; ${Math.round(s.n / (elapsed / 1000))} grants/s; target < 1 ms: ${s.median < 1 && s.p99 < 1 ? "met" : "MISSED"}`,
    `load + check the 200-resource policy (${Buffer.byteLength(policyText)} bytes), ${p.n} runs: median ${fmt(p.median)} ms, p99 ${fmt(p.p99)} ms`,
    `  the same policy again, by blob SHA from the cache: median ${fmt(c.median * 1000, 2)} µs`,
  ];
}
