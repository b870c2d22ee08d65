import { describe, expect, it } from "@jest/globals";
import { formatDuration, parseDuration } from "../src/grant/duration.js";
import { parseGrant } from "../src/grant/parse.js";
import { checkGrantRules, type RequestFacts } from "../src/grant/rules.js";
import { loadPolicy, type LoadedPolicy } from "../src/policy/load.js";
import { grantYaml, POLICY } from "./helpers/fixtures.js";

const PATH = "grants/prod-db/alice-1.yaml";
const policy = (text = POLICY): LoadedPolicy => {
  const r = loadPolicy(".github/jit-access.yml", text);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.policy;
};
const FACTS: RequestFacts = { author: "alice", requestedAt: new Date("2026-11-29T13:00:00Z"), requesterAllowed: true };

/** Schema errors for a grant text: `line:col message`. */
function schemaErrors(text: string): string[] {
  const r = parseGrant(PATH, text);
  return r.ok ? [] : r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
}

/** Rule errors for a grant text under the fixture policy. */
function ruleErrors(text: string, facts: Partial<RequestFacts> = {}, path = PATH, p = policy()): string[] {
  const r = parseGrant(path, text);
  if (!r.ok) throw new Error(`schema errors: ${r.diagnostics.map((d) => d.message).join("; ")}`);
  return checkGrantRules(r, p, { ...FACTS, ...facts }).diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
}

describe("durations", () => {
  it.each([
    ["30m", 30], ["2h", 120], ["1h30m", 90], ["1d", 1440], ["1d2h3m", 1563], ["0m", 0],
  ])("%s is %i minutes", (text, minutes) => {
    expect(parseDuration(text)).toBe(minutes * 60_000);
  });
  it.each(["", "2", "h", "2 h", "1m30h", "1.5h", "-1h", "2hours", "1h1h", "99999d"])("%j is not a duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
  it("formats back to the shortest form", () => {
    expect(formatDuration(90 * 60_000)).toBe("1h30m");
    expect(formatDuration(26 * 3600_000)).toBe("1d2h");
  });
});

describe("the grant schema", () => {
  it("accepts the grant of the spec", () => {
    expect(schemaErrors(grantYaml({ ticket: "INC-4211", start: "2026-11-29T14:00:00Z", emergency: false }))).toEqual([]);
  });
  it("refuses an unknown key at the key", () => {
    expect(schemaErrors(grantYaml({ colour: "blue" }))).toEqual(['6:1 unknown key "colour"']);
  });
  it("refuses a missing required key", () => {
    expect(schemaErrors(grantYaml({ reason: undefined }))).toEqual(['1:1 missing required key "reason"']);
  });
  it("refuses a wrong type", () => {
    expect(schemaErrors(grantYaml({ emergency: "yes" }))).toEqual(['6:12 emergency must be true or false: a break-glass request, not the string "yes"']);
  });
  it("refuses a malformed duration", () => {
    expect(schemaErrors(grantYaml({ duration: "two hours" }))).toEqual([
      '4:11 duration must be a duration such as 30m, 2h, 1h30m or 1d (units d, h, m in that order); got "two hours"',
    ]);
  });
  it("refuses a malformed date and a date without a zone", () => {
    expect(schemaErrors(grantYaml({ start: "tomorrow" }))).toEqual([
      '6:8 start must be an RFC 3339 date and time with a zone, such as 2026-11-29T14:00:00Z; got "tomorrow"',
    ]);
    expect(schemaErrors(grantYaml({ start: "2026-11-29T14:00:00" }))).toHaveLength(1);
  });
  it("refuses a requester that is not a GitHub login", () => {
    expect(schemaErrors(grantYaml({ requester: "'alice; drop role'" }))).toEqual([`1:12 requester must be a GitHub login; got "alice; drop role"`]);
  });
  it("refuses an empty reason and a number where text belongs", () => {
    expect(schemaErrors(grantYaml({ reason: '""' }))).toEqual(["5:9 reason must not be empty"]);
    expect(schemaErrors(grantYaml({ ticket: "4211" }))).toEqual(["6:9 ticket must be a ticket or incident reference, not the number 4211"]);
  });
});

describe("the policy rules", () => {
  it("pass for a valid request", () => {
    expect(ruleErrors(grantYaml())).toEqual([]);
  });
  it("the folder must be the resource", () => {
    expect(ruleErrors(grantYaml(), {}, "grants/prod-admins/alice.yaml")).toEqual(['2:11 resource "prod-db" does not match the folder grants/prod-admins/']);
  });
  it("the grant file must sit at grants/<resource>/<name>.yaml", () => {
    expect(ruleErrors(grantYaml(), {}, "grants/prod-db/sub/alice.yaml")).toEqual(["1:1 a grant file must be grants/<resource>/<name>.yaml"]);
  });
  it("the requester must be the PR author (case-insensitively, as logins are)", () => {
    expect(ruleErrors(grantYaml(), { author: "ALICE" })).toEqual([]);
    expect(ruleErrors(grantYaml(), { author: "mallory" })).toEqual([
      '1:12 requester "alice" is not the pull request\'s author (mallory); request access for yourself',
    ]);
  });
  it("the requester must be in the requesters allow-list", () => {
    expect(ruleErrors(grantYaml(), { requesterAllowed: false })).toEqual(["1:12 alice is not allowed to request access (policy requesters: @acme/engineering)"]);
    expect(ruleErrors(grantYaml(), { requesterAllowed: undefined })).toEqual([]);
  });
  it("the resource must exist", () => {
    expect(ruleErrors(grantYaml({ resource: "prod-cache" }), {}, "grants/prod-cache/a.yaml")).toEqual([
      '2:11 unknown resource "prod-cache"; the policy has: prod-db, prod-admins',
    ]);
  });
  it("the role must exist", () => {
    expect(ruleErrors(grantYaml({ role: "superuser" }))).toEqual(['3:7 unknown role "superuser" for prod-db; it has: read-only, read-write']);
  });
  it("the duration must be longer than zero", () => {
    expect(ruleErrors(grantYaml({ duration: "0m" }))).toEqual(["4:11 duration must be longer than 0m"]);
  });
  it("the duration must be within the role's max_duration, or the default's", () => {
    expect(ruleErrors(grantYaml({ duration: "4h" }))).toEqual([]);
    expect(ruleErrors(grantYaml({ duration: "4h1m" }))).toEqual(["4:11 duration 4h1m is longer than 4h, the most prod-db/read-only allows"]);
    const inherits = grantYaml({ resource: "prod-admins", role: "member", duration: "1d" });
    expect(ruleErrors(inherits, {}, "grants/prod-admins/a.yaml")).toEqual(["4:11 duration 1d is longer than 8h, the most prod-admins/member allows"]);
  });
  it("the reason must be long enough (whitespace does not count)", () => {
    expect(ruleErrors(grantYaml({ reason: '"   because   "' }))).toEqual([
      "5:9 reason must be at least 10 characters (it has 7); say what you will do and why",
    ]);
  });
  it("a ticket is required and must match where the role sets ticket_pattern", () => {
    const rw = (ticket?: string) => grantYaml({ role: "read-write", duration: "1h", ticket });
    expect(ruleErrors(rw("INC-4211"))).toEqual([]);
    expect(ruleErrors(rw())).toEqual(["1:1 a ticket matching ^INC-[0-9]+$ is required for prod-db/read-write"]);
    expect(ruleErrors(rw("JIRA-1"))).toEqual(['6:9 ticket "JIRA-1" does not match ^INC-[0-9]+$']);
  });
  it("start must not be before the request was made", () => {
    expect(ruleErrors(grantYaml({ start: "2026-11-29T14:00:00Z" }))).toEqual([]);
    expect(ruleErrors(grantYaml({ start: "2026-11-29T12:00:00Z" }))).toEqual([
      "6:8 start 2026-11-29T12:00:00Z is before the request was made (2026-11-29T13:00:00.000Z)",
    ]);
  });
  it("emergency needs a break_glass section and stays within its max_duration", () => {
    expect(ruleErrors(grantYaml({ emergency: true, duration: "1h" }))).toEqual([]);
    expect(ruleErrors(grantYaml({ emergency: true, duration: "2h" }))).toEqual(["4:11 an emergency grant may last at most 1h (break_glass.max_duration)"]);
    const noBreakGlass = policy(POLICY.replace(/break_glass:\n.*\n.*\n/, ""));
    expect(ruleErrors(grantYaml({ emergency: true, duration: "1h" }), {}, PATH, noBreakGlass)).toEqual([
      "6:12 this policy has no break_glass section, so emergency requests are not possible",
    ]);
  });
});
