import { describe, expect, it } from "@jest/globals";
import { parseGrant } from "../src/grant/parse.js";
import { checkGrantRules } from "../src/grant/rules.js";
import { loadPolicy, type LoadedPolicy } from "../src/policy/load.js";
import { grantYaml, POLICY } from "./helpers/fixtures.js";

/**
 * A ticket_pattern comes from the policy and a ticket from the requester: together they must
 * never stall the app. Patterns run on RE2 (re2js): any pattern matches in linear time, and the
 * syntax that would need backtracking (lookarounds, backreferences) is a policy error at load.
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
const UNSUPPORTED = "ticket patterns are matched by RE2, in time linear in the ticket, which has no lookarounds or backreferences; rewrite it without";

describe("ticket_pattern at policy load", () => {
  it("accepts the patterns people write for tickets", () => {
    for (const p of ["^INC-[0-9]+$", "^(INC|CHG|PRB)-[0-9]{1,8}$", "^[A-Z][A-Z0-9]+-[1-9][0-9]*$", "^https://acme\\.atlassian\\.net/browse/[A-Z]+-\\d+$", "^(?<project>[A-Z]+)-\\d+$", "^[(?=]+$"]) {
      expect(errors(withPattern(p))).toEqual([]);
    }
  });

  it.each([
    ["^INC-(?=\\d)\\d+$", "a lookahead ((?=…))"],
    ["^(?!TEST)[A-Z]+-\\d+$", "a negative lookahead ((?!…))"],
    ["^(?<=x)INC$", "a lookbehind ((?<=…))"],
    ["^(?<!x)INC$", "a negative lookbehind ((?<!…))"],
    ["^(INC)-\\1$", "a backreference (\\1)"],
    ["^(?<p>INC)-\\k<p>$", "a named backreference (\\k<…>)"],
  ])("refuses %s, which RE2 cannot run, at its line, naming what it uses", (pattern, what) => {
    expect(errors(withPattern(pattern))).toEqual([`23:25 resources.prod-db.roles.read-write.ticket_pattern uses ${what}: ${UNSUPPORTED}`]);
  });

  it("refuses a lookahead in defaults too, where every role would inherit it", () => {
    expect(errors(POLICY.replace("  merge: auto\n", "  merge: auto\n  ticket_pattern: '(?=x)y'\n"))).toEqual([`8:19 defaults.ticket_pattern uses a lookahead ((?=…)): ${UNSUPPORTED}`]);
  });

  it("still refuses a pattern that does not compile, with RE2's reason", () => {
    expect(errors(withPattern("^(INC-"))).toEqual(["23:25 ticket_pattern is not a valid regular expression: missing closing ): `^(INC-`"]);
  });
});

describe("matching a ticket", () => {
  const facts = { author: "alice", requestedAt: new Date("2026-11-29T13:00:00Z"), requesterAllowed: true };
  const problems = (policy: LoadedPolicy, ticket: string) => {
    const parsed = parseGrant("grants/prod-db/alice-1.yaml", grantYaml({ role: "read-write", duration: "1h", ticket: JSON.stringify(ticket) }));
    if (!parsed.ok) return parsed.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
    return checkGrantRules(parsed, policy, facts).diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
  };

  // With a backtracking engine each of these would run for longer than the test suite (2^200
  // paths); RE2 answers at once, so the test finishing at all is the proof.
  it.each(["^(a+)+$", "^(\\w|\\d)*$", "^([a-z0-9]+[._-]?)+@acme\\.com$"])("a pattern that backtracks exponentially elsewhere, %s, answers a crafted ticket: no match", (pattern) => {
    const policy = loaded(withPattern(pattern));
    const crafted = `${"a".repeat(199)}!`;
    expect(problems(policy, crafted)).toEqual([`6:9 ticket "${crafted}" does not match ${pattern}`]);
  });

  it("matches like RegExp.test: anywhere unless anchored", () => {
    expect(problems(loaded(withPattern("^(a+)+$")), "aaaa")).toEqual([]);
    expect(problems(loaded(withPattern("INC-\\d+")), "see INC-42 please")).toEqual([]);
    expect(problems(loaded(withPattern("^INC-\\d+$")), "see INC-42 please")).toEqual(['6:9 ticket "see INC-42 please" does not match ^INC-\\d+$']);
  });

  it("a ticket is at most 200 characters, refused at its line beyond", () => {
    const policy = loaded(withPattern("^.*$"));
    expect(problems(policy, "x".repeat(200))).toEqual([]);
    expect(problems(policy, "x".repeat(201))).toEqual(["6:9 ticket is longer than 200 characters"]);
  });
});
