import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { parseCodeowners } from "../../src/policy/codeowners.js";
import { plan } from "../../src/plan/plan.js";
import type { PlanChange } from "../../src/plan/types.js";
import { loadPolicyDoc as load } from "../helpers/policy-doc.js";

/** Random policies over a small vocabulary, so two of them share resources, roles and groups often. */
const group = fc.constantFrom("@acme/eng", "@acme/sec", "@acme/oncall", "@alice", "@bob");
const groups = fc.uniqueArray(group, { maxLength: 3 });
const duration = fc.constantFrom("30m", "1h", "2h", "8h", "1d");
const settings = fc.record(
  {
    max_duration: duration,
    reason_min_length: fc.integer({ min: 0, max: 30 }),
    pending_timeout: duration,
    expiry_warning: fc.constantFrom("5m", "10m"),
    merge: fc.constantFrom("auto", "manual"),
    approvals: fc.record({ min_per_group: fc.integer({ min: 1, max: 3 }), mode: fc.constantFrom("all", "any") }, { requiredKeys: [] }),
    ticket_pattern: fc.constantFrom("^INC-[0-9]+$", "^[A-Z]+-[0-9]+$"),
    auto_approve: groups,
  },
  { requiredKeys: [] },
);
const role = fc.tuple(settings, fc.constantFrom(["read"], ["write"])).map(([s, roles]) => ({ ...s, grant: { roles } }));
const resource = fc.record({
  description: fc.constantFrom("Production", "Primary"),
  provider: fc.constant("postgres"),
  config: fc.constantFrom({ url_env: "JIT_A" }, { url_env: "JIT_B" }),
  roles: fc.dictionary(fc.constantFrom("ro", "rw", "admin"), role, { minKeys: 1, maxKeys: 3 }),
}, { requiredKeys: ["provider", "config", "roles"] });
const policy = fc.record(
  {
    version: fc.constant(1),
    defaults: settings,
    requesters: groups,
    admins: groups,
    resources: fc.dictionary(fc.constantFrom("db", "web"), resource, { minKeys: 1, maxKeys: 2 }),
    break_glass: fc.record({ approvers: fc.uniqueArray(group, { minLength: 1, maxLength: 2 }), max_duration: duration }),
    changes: fc.record({ widening_requires: fc.uniqueArray(group, { minLength: 1, maxLength: 2 }) }),
    notifications: fc.constantFrom({ slack_webhook_env: "JIT_SLACK" }, {}),
  },
  { requiredKeys: ["version", "resources"] },
);
const codeowners = fc
  .tuple(groups, groups, groups)
  .map(([all, db, web]) => parseCodeowners("CODEOWNERS", `* ${all.join(" ")}\n/grants/db/ ${db.join(" ")}\n/grants/web/ ${web.join(" ")}\n`));

const shape = (c: PlanChange) => [c.effect, c.resource ?? "*", c.role ?? "*", c.field, c.before, c.after].join(" | ");
const flipped = (c: PlanChange) => shape({ ...c, effect: c.effect === "widening" ? "narrowing" : c.effect === "narrowing" ? "widening" : "neutral", before: c.after, after: c.before });

describe("plan, for any two policies and CODEOWNERS", () => {
  it("plan(a, a) is empty", () => {
    fc.assert(
      fc.property(policy, codeowners, (p, c) => {
        const a = load(p);
        const result = plan(a, c, a, c);
        expect(result.changes).toEqual([]);
        expect(result.widened).toEqual([]);
        expect(result.narrowed).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it("plan(a, b) mirrors plan(b, a): before and after swapped, widening and narrowing exchanged", () => {
    fc.assert(
      fc.property(policy, codeowners, policy, codeowners, (pa, ca, pb, cb) => {
        const [a, b] = [load(pa), load(pb)];
        const forward = plan(a, ca, b, cb);
        const backward = plan(b, cb, a, ca);
        expect(backward.changes.map(shape).sort()).toEqual(forward.changes.map(flipped).sort());
        expect(backward.widened.sort()).toEqual(forward.narrowed.sort());
        expect(backward.narrowed.sort()).toEqual(forward.widened.sort());
      }),
      { numRuns: 200 },
    );
  });
});
