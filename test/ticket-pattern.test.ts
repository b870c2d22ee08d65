import { describe, expect, it } from "@jest/globals";
import { parseGrant } from "../src/grant/parse.js";
import { checkGrantRules } from "../src/grant/rules.js";
import { loadPolicy, type LoadedPolicy } from "../src/policy/load.js";
import { grantYaml, POLICY } from "./helpers/fixtures.js";

/**
 * A ticket_pattern comes from the policy and a ticket from the requester: together they must
 * never stall the app. Unsafe patterns are policy errors at load; every match is bounded in time.
 */
const P = ".github/jit-access.yml";
const withPattern = (pattern: string) => POLICY.replace('ticket_pattern: "^INC-[0-9]+$"', () => `ticket_pattern: '${pattern}'`);
const errors = (text: string) => {
  const r = loadPolicy(P, text);
  return r.ok ? [] : r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
};
const loaded = (text: string): LoadedPolicy => {
  const r = loadPolicy(P, text);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.policy;
};
const UNSAFE = "could take exponential time on some tickets (a repeated group that itself repeats, such as (a+)+, or more than 25 repetitions); rewrite it without nested repetition";

describe("ticket_pattern at policy load", () => {
  it("accepts the patterns people write for tickets", () => {
    for (const p of ["^INC-[0-9]+$", "^(INC|CHG|PRB)-[0-9]{1,8}$", "^[A-Z][A-Z0-9]+-[1-9][0-9]*$", "^https://acme\\.atlassian\\.net/browse/[A-Z]+-\\d+$"]) {
      expect(errors(withPattern(p))).toEqual([]);
    }
  });

  it.each(["^(a+)+$", "^(\\w+\\s?)*$", "(a*)*b", "^([a-z0-9]+[._-]?)+@acme\\.com$"])("refuses %s, a catastrophic-backtracking pattern, at its line", (pattern) => {
    expect(errors(withPattern(pattern))).toEqual([`23:25 resources.prod-db.roles.read-write.ticket_pattern ${UNSAFE}`]);
  });

  it("refuses an unsafe pattern in defaults too, where every role would inherit it", () => {
    expect(errors(POLICY.replace("  merge: auto\n", "  merge: auto\n  ticket_pattern: '(x+)+y'\n"))).toEqual([`8:19 defaults.ticket_pattern ${UNSAFE}`]);
  });

  it("still refuses a pattern that does not compile", () => {
    expect(errors(withPattern("^(INC-"))).toEqual([expect.stringMatching(/^23:25 ticket_pattern is not a valid regular expression: /)]);
  });
});

describe("matching a ticket", () => {
  const facts = { author: "alice", requestedAt: new Date("2026-11-29T13:00:00Z"), requesterAllowed: true };
  const problems = (policy: LoadedPolicy, ticket: string) => {
    const parsed = parseGrant("grants/prod-db/alice-1.yaml", grantYaml({ role: "read-write", duration: "1h", ticket: JSON.stringify(ticket) }));
    if (!parsed.ok) return parsed.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
    return checkGrantRules(parsed, policy, facts).diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
  };

  it("is bounded even for a pattern the load-time check cannot see through: the ticket is refused, fast", () => {
    // Overlapping alternatives under one star: exponential in V8, yet of star height one.
    const policy = loaded(withPattern("^(\\w|\\d)*$"));
    const started = Date.now();
    expect(problems(policy, `${"1".repeat(40)}!`)).toEqual([
      `6:9 ticket "${"1".repeat(40)}!" could not be checked against ^(\\w|\\d)*$ within 100 ms; use a simpler ticket, or ask the policy owners to simplify ticket_pattern`,
    ]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(problems(policy, "1234")).toEqual([]);
  });

  it("a ticket is at most 200 characters, refused at its line beyond", () => {
    const policy = loaded(withPattern("^.*$"));
    expect(problems(policy, "x".repeat(200))).toEqual([]);
    expect(problems(policy, "x".repeat(201))).toEqual(["6:9 ticket is longer than 200 characters"]);
  });
});
