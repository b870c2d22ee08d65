import { describe, expect, it } from "@jest/globals";
import { parseCodeowners } from "../../src/policy/codeowners.js";
import { plan, widens } from "../../src/plan/plan.js";
import type { AccessPlan, PlanChange } from "../../src/plan/types.js";
import { loadPolicyDoc } from "../helpers/policy-doc.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Doc = Record<string, any>;

function base(): Doc {
  return {
    version: 1,
    defaults: { reason_min_length: 10 },
    requesters: ["@acme/eng"],
    admins: ["@acme/sec"],
    resources: {
      db: {
        description: "Production database",
        provider: "postgres",
        config: { url_env: "JIT_DB_URL" },
        roles: {
          rw: { max_duration: "2h", grant: { roles: ["app_write"] }, approvals: { min_per_group: 2, mode: "all" } },
          ro: { grant: { roles: ["read"] } },
        },
      },
    },
    break_glass: { approvers: ["@acme/oncall"], max_duration: "1h" },
  };
}

const load = loadPolicyDoc;

const CODEOWNERS = "* @acme/sec\n/grants/db/ @acme/dba\n";
const owners = (text: string) => parseCodeowners(".github/CODEOWNERS", text);

/** What a change is, without its wording and place: the part that must mirror. */
const shape = (c: PlanChange) => [c.effect, c.resource ?? "*", c.role ?? "*", c.field, c.before, c.after].join(" | ");
const flip = (c: PlanChange): PlanChange => ({ ...c, effect: c.effect === "widening" ? "narrowing" : c.effect === "narrowing" ? "widening" : "neutral", before: c.after, after: c.before });

interface Case {
  name: string;
  /** Applied to both sides first. */
  from?: (doc: Doc) => void;
  change: (doc: Doc) => void;
  codeowners?: [string, string];
  /** `effect field scope before→after` of every expected entry. */
  expected: string[];
}

const cases: Case[] = [
  { name: "a longer max_duration", change: (d) => (d.resources.db.roles.rw.max_duration = "4h"), expected: ["widening | db | rw | max_duration | 2h | 4h"] },
  { name: "a longer default max_duration, inherited", change: (d) => (d.defaults.max_duration = "12h"), expected: ["widening | db | ro | max_duration | 8h | 12h"] },
  { name: "a shorter reason_min_length", change: (d) => (d.resources.db.roles.rw.reason_min_length = 3), expected: ["widening | db | rw | reason_min_length | 10 | 3"] },
  { name: "a longer pending_timeout", change: (d) => (d.resources.db.roles.rw.pending_timeout = "2d"), expected: ["widening | db | rw | pending_timeout | 1d | 2d"] },
  { name: "merge manual", change: (d) => (d.resources.db.roles.rw.merge = "manual"), expected: ["narrowing | db | rw | merge | auto | manual"] },
  { name: "fewer approvals per group", change: (d) => (d.resources.db.roles.rw.approvals.min_per_group = 1), expected: ["widening | db | rw | approvals.min_per_group | 2 | 1"] },
  { name: "approval mode any", change: (d) => (d.resources.db.roles.rw.approvals.mode = "any"), expected: ["widening | db | rw | approvals.mode | all | any"] },
  { name: "auto_approve a team", change: (d) => (d.resources.db.roles.rw.auto_approve = ["@acme/eng"]), expected: ["widening | db | rw | auto_approve | — | @acme/eng"] },
  { name: "a ticket_pattern", change: (d) => (d.resources.db.roles.rw.ticket_pattern = "^INC-[0-9]+$"), expected: ["narrowing | db | rw | ticket_pattern | no ticket needed | ^INC-[0-9]+$"] },
  { name: "requesters: a team more", change: (d) => d.requesters.push("@acme/contractors"), expected: ["widening | * | * | requesters | — | @acme/contractors"] },
  { name: "requesters: no list (anyone)", change: (d) => delete d.requesters, expected: ["widening | * | * | requesters | @acme/eng | anyone"] },
  { name: "admins: one more", change: (d) => d.admins.push("@mallory"), expected: ["widening | * | * | admins | — | @mallory"] },
  { name: "break-glass approvers: one more", change: (d) => d.break_glass.approvers.push("@acme/eng"), expected: ["widening | * | * | break_glass.approvers | — | @acme/eng"] },
  { name: "break-glass: longer", change: (d) => (d.break_glass.max_duration = "4h"), expected: ["widening | * | * | break_glass.max_duration | 1h | 4h"] },
  { name: "break-glass: removed", change: (d) => delete d.break_glass, expected: ["narrowing | * | * | break_glass | @acme/oncall approve alone, up to 1h | off"] },
  { name: "changes.widening_requires: a group", change: (d) => (d.changes = { widening_requires: ["@acme/security"] }), expected: ["narrowing | * | * | changes.widening_requires | — | @acme/security"] },
  { name: "a new role", change: (d) => (d.resources.db.roles.admin = { max_duration: "30m", grant: { roles: ["admin"] } }), expected: ["widening | db | admin | role | — | up to 30m, every group of @acme/dba × 1"] },
  {
    name: "a new resource",
    change: (d) => (d.resources.web = { provider: "github-team", config: { org: "acme", team: "web" }, roles: { member: {} } }),
    expected: ["widening | web | member | role | — | up to 8h, every group of @acme/sec × 1"],
  },
  { name: "the expiry warning", change: (d) => (d.resources.db.roles.rw.expiry_warning = "30m"), expected: ["neutral | db | rw | expiry_warning | 10m | 30m"] },
  { name: "what a role grants", change: (d) => (d.resources.db.roles.rw.grant = { roles: ["superuser"] }), expected: ['neutral | db | rw | grant | {"roles":["app_write"]} | {"roles":["superuser"]}'] },
  { name: "a changed ticket pattern (cannot be ordered)", from: (d) => (d.resources.db.roles.rw.ticket_pattern = "^INC-[0-9]+$"), change: (d) => (d.resources.db.roles.rw.ticket_pattern = "^A-[0-9]+$"), expected: ["neutral | db | rw | ticket_pattern | ^INC-[0-9]+$ | ^A-[0-9]+$"] },
  { name: "the target", change: (d) => (d.resources.db.config.url_env = "JIT_OTHER_DB"), expected: ['neutral | db | * | config | {"url_env":"JIT_DB_URL"} | {"url_env":"JIT_OTHER_DB"}'] },
  { name: "the provider", change: (d) => { d.resources.db.provider = "webhook"; d.resources.db.config = { url_env: "JIT_HOOK", secret_env: "JIT_HOOK_SECRET" }; d.resources.db.roles.rw.grant = {}; d.resources.db.roles.ro.grant = {}; }, expected: [
    "neutral | db | * | provider | postgres | webhook",
    'neutral | db | * | config | {"url_env":"JIT_DB_URL"} | {"secret_env":"JIT_HOOK_SECRET","url_env":"JIT_HOOK"}',
    'neutral | db | rw | grant | {"roles":["app_write"]} | {}',
    'neutral | db | ro | grant | {"roles":["read"]} | {}',
  ] },
  { name: "the description", change: (d) => (d.resources.db.description = "Primary"), expected: ['neutral | db | * | description | "Production database" | "Primary"'] },
  { name: "notifications", change: (d) => (d.notifications = { slack_webhook_env: "JIT_SLACK" }), expected: ['neutral | * | * | notifications | — | {"slack_webhook_env":"JIT_SLACK"}'] },
  { name: "CODEOWNERS: one more group under mode all", change: () => {}, codeowners: [CODEOWNERS, "* @acme/sec\n/grants/db/ @acme/dba @acme/security\n"], expected: ["narrowing | db | rw | approvers | — | @acme/security", "narrowing | db | ro | approvers | — | @acme/security"] },
  {
    name: "CODEOWNERS: one more group under mode any",
    change: (d) => { d.resources.db.roles.rw.approvals.mode = "any"; delete d.resources.db.roles.ro; },
    codeowners: [CODEOWNERS, "* @acme/sec\n/grants/db/ @acme/dba @acme/eng\n"],
    expected: ["widening | db | rw | approvals.mode | all | any", "widening | db | rw | approvers | — | @acme/eng", "narrowing | db | ro | role | up to 8h, every group of @acme/dba × 1 | —"],
  },
  { name: "CODEOWNERS: a resource's rule removed (its grants fall to the catch-all)", change: () => {}, codeowners: [CODEOWNERS, "* @acme/sec\n"], expected: ["widening | db | rw | approvers | @acme/dba | —", "widening | db | ro | approvers | @acme/dba | —", "narrowing | db | rw | approvers | — | @acme/sec", "narrowing | db | ro | approvers | — | @acme/sec"] },
  { name: "CODEOWNERS: nobody approves any more", change: () => {}, codeowners: [CODEOWNERS, "* @acme/sec\n/grants/ \n"], expected: ["narrowing | db | rw | approvers | @acme/dba | nobody (fails closed)", "narrowing | db | ro | approvers | @acme/dba | nobody (fails closed)"] },
  { name: "CODEOWNERS: a policy owner more", change: () => {}, codeowners: [CODEOWNERS, "* @acme/sec @acme/audit\n/grants/db/ @acme/dba\n"], expected: ["narrowing | * | * | approvers | — | @acme/audit"] },
];

function run(change: Case): { forward: AccessPlan; backward: AccessPlan } {
  const before = base();
  change.from?.(before);
  const after = structuredClone(before);
  change.change(after);
  const [oc, nc] = change.codeowners ?? [CODEOWNERS, CODEOWNERS];
  return {
    forward: plan(load(before), owners(oc), load(after), owners(nc)),
    backward: plan(load(after), owners(nc), load(before), owners(oc)),
  };
}

describe("plan(old, new): every setting, widened and narrowed", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_, change) => {
    const { forward, backward } = run(change);
    expect(forward.changes.map(shape)).toEqual(change.expected);
    // The same change undone: each entry mirrored (widening first again, so compared as sets).
    expect(backward.changes.map(shape).sort()).toEqual(forward.changes.map(flip).map(shape).sort());
    expect(widens(forward)).toBe(change.expected.some((e) => e.startsWith("widening")));
  });

  it("puts widening first, then narrowing, then neutral, and counts roles (a policy-wide change counts every role)", () => {
    const after = base();
    after.resources.db.roles.rw.merge = "manual";
    after.resources.db.roles.rw.expiry_warning = "1h";
    after.requesters.push("@acme/contractors");
    const p = plan(load(base()), owners(CODEOWNERS), load(after), owners(CODEOWNERS));
    expect(p.changes.map((c) => c.effect)).toEqual(["widening", "narrowing", "neutral"]);
    expect(p.widened).toEqual(["db/rw", "db/ro"]);
    expect(p.narrowed).toEqual(["db/rw"]);
  });

  it("points each widening at the line that sets it: the role's own setting, else defaults", () => {
    const after = base();
    after.defaults.max_duration = "12h";
    after.resources.db.roles.rw.max_duration = "3h";
    const p = plan(load(base()), owners(CODEOWNERS), load(after), owners(CODEOWNERS));
    expect(p.changes.map((c) => [c.role, c.where])).toEqual([
      ["rw", ["resources", "db", "roles", "rw", "max_duration"]],
      ["ro", ["defaults", "max_duration"]],
    ]);
  });

  it("with the directory, names the people an added team brings that the old list did not cover", () => {
    const after = base();
    after.requesters.push("@acme/contractors");
    const directory = new Map([["@acme/eng", ["alice", "bob"]], ["@acme/contractors", ["bob", "Carol"]]]);
    const p = plan(load(base()), owners(CODEOWNERS), load(after), owners(CODEOWNERS), directory);
    expect(p.changes).toEqual([expect.objectContaining({ field: "requesters", people: ["carol"] })]);
  });

  it("names live grants the new policy would not allow; they keep their window", () => {
    const after = base();
    after.resources.db.roles.rw.max_duration = "1h";
    after.requesters = ["@acme/eng"];
    delete after.resources.db.roles.ro;
    const hours = (n: number) => n * 3600_000;
    const directory = new Map([["@acme/eng", ["alice"]]]);
    const p = plan(load(base()), owners(CODEOWNERS), load(after), owners(CODEOWNERS), directory, [
      { number: 1, resource: "db", role: "rw", requester: "alice", durationMs: hours(2) },
      { number: 2, resource: "db", role: "rw", requester: "alice", durationMs: hours(2) },
      { number: 3, resource: "db", role: "rw", requester: "alice", durationMs: hours(1) },
      { number: 4, resource: "db", role: "ro", requester: "alice", durationMs: hours(1) },
      { number: 5, resource: "db", role: "rw", requester: "mallory", durationMs: hours(1) },
      { number: 6, resource: "gone", role: "x", requester: "alice", durationMs: hours(1) },
    ]);
    expect(p.liveGrants.map((n) => [n.problem, n.numbers, n.text])).toEqual([
      ["exceeds-max-duration", [1, 2], "2 live grants of db/rw exceed the new 1h maximum; they keep their window"],
      ["role-removed", [4], "1 live grant of db/ro: the role is removed; it keeps its window"],
      ["requester-not-allowed", [5], "1 live grant of db/rw is held by people the new requesters leave out; it keeps its window"],
      ["resource-removed", [6], "1 live grant of gone/x: the resource is removed; it keeps its window"],
    ]);
  });

  it("a requester in a team the directory does not know is not reported", () => {
    const p = plan(load(base()), owners(CODEOWNERS), load(base()), owners(CODEOWNERS), undefined, [{ number: 1, resource: "db", role: "rw", requester: "zed", durationMs: 60_000 }]);
    expect(p.liveGrants).toEqual([]);
  });

  it("a first policy (none before) widens every role", () => {
    const p = plan(undefined, null, load(base()), owners(CODEOWNERS));
    expect(p.widened).toEqual(["db/rw", "db/ro"]);
    expect(p.narrowed).toEqual([]);
  });
});
