import { describe, expect, it } from "@jest/globals";
import { parseGrant } from "../src/grant/parse.js";
import { checkGrantRules } from "../src/grant/rules.js";
import { parseTimestamp } from "../src/grant/timestamp.js";
import { planWindow } from "../src/lifecycle/window.js";
import { readState } from "../src/lifecycle/codec.js";
import { loadPolicy } from "../src/policy/load.js";
import { deliver, fixedClock, mockInstallationToken, startAppWithScheduler } from "./helpers/app.js";
import { CODEOWNERS, grantYaml, POLICY } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { pullRequestEvent } from "./helpers/payloads.js";
import { mockApprovalReads, mockReads, mockRecordWrites, prFields, R, type Scenario } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

/**
 * Every `start` the grant schema accepts is a time jit-access can compute with; everything else
 * is refused at its line. `Date.parse` gave NaN for a leap second the schema accepted, and a
 * merged grant with such a start was retried every minute, forever.
 */
guardNetwork();
const PATH = "grants/prod-db/alice-1.yaml";
const policy = (() => {
  const r = loadPolicy(".github/jit-access.yml", POLICY);
  if (!r.ok) throw new Error("fixture policy invalid");
  return r.policy;
})();
const at = (iso: string) => new Date(iso).getTime();

/** `start: <text>` → null when the grant is valid, else its problems as `line:col message`. */
function verdict(text: string, requestedAt = new Date("2000-01-01T00:00:00Z")): string[] | null {
  const parsed = parseGrant(PATH, grantYaml({ start: text }));
  const problems = parsed.ok
    ? checkGrantRules(parsed, policy, { author: "alice", requestedAt, requesterAllowed: true }).diagnostics
    : parsed.diagnostics;
  return problems.length ? problems.map((d) => `${d.line}:${d.column} ${d.message}`) : null;
}

const ACCEPTED: [string, string, string][] = [
  ["the plain form", "2026-11-29T14:00:00Z", "2026-11-29T14:00:00.000Z"],
  ["lowercase t and z", "2026-11-29t14:00:00z", "2026-11-29T14:00:00.000Z"],
  ["a space for the T, as RFC 3339 allows", "2026-11-29 14:00:00Z", "2026-11-29T14:00:00.000Z"],
  ["a positive offset", "2026-11-29T15:30:00+01:30", "2026-11-29T14:00:00.000Z"],
  ["a negative offset crossing midnight", "2026-11-28T23:00:00-15:00", "2026-11-29T14:00:00.000Z"],
  ["-00:00 (offset unknown, time in UTC)", "2026-11-29T14:00:00-00:00", "2026-11-29T14:00:00.000Z"],
  ["milliseconds", "2026-11-29T14:00:00.250Z", "2026-11-29T14:00:00.250Z"],
  ["nanoseconds, rounded up so a start never moves earlier", "2026-11-29T14:00:00.123456789Z", "2026-11-29T14:00:00.124Z"],
  ["a fraction that is all zeros", "2026-11-29T14:00:00.000000Z", "2026-11-29T14:00:00.000Z"],
  ["a leap second, read as the next second", "2026-12-31T23:59:60Z", "2027-01-01T00:00:00.000Z"],
  ["a leap second with a fraction", "2026-12-31T23:59:60.5Z", "2027-01-01T00:00:00.000Z"],
  ["a leap second written in another zone", "2027-01-01T00:59:60+01:00", "2027-01-01T00:00:00.000Z"],
  ["a leap second on 30 June", "2026-06-30T23:59:60z", "2026-07-01T00:00:00.000Z"],
  ["29 February of a leap year", "2028-02-29T14:00:00Z", "2028-02-29T14:00:00.000Z"],
  ["the last moment of a year", "2026-12-31T23:59:59.999Z", "2026-12-31T23:59:59.999Z"],
];

const REFUSED: [string, string][] = [
  ["an offset without minutes", "2026-11-29T14:00:00+01"],
  ["an offset without a colon", "2026-11-29T14:00:00+0100"],
  ["no zone", "2026-11-29T14:00:00"],
  ["a tab for the T", '"2026-11-29\\t14:00:00Z"'],
  ["hour 24", "2026-11-29T24:00:00Z"],
  ["hour 24 disguised by an offset", "2026-11-29T24:59:30+01:00"],
  ["a leap second that is not at 23:59 UTC", "2026-11-29T14:59:60Z"],
  ["30 February", "2026-02-30T14:00:00Z"],
  ["29 February of a common year", "2026-02-29T14:00:00Z"],
  ["a comma for the decimal point", "2026-11-29T14:00:00,5Z"],
  ["an empty fraction", "2026-11-29T14:00:00.Z"],
  ["an offset beyond 23:59", "2026-11-29T14:00:00+24:00"],
  ["a six-digit year", "+002026-11-29T14:00:00Z"],
];

describe("start: the times the schema accepts are the times jit-access reads", () => {
  it.each(ACCEPTED)("%s (%s) is valid and means %s", (_, text, iso) => {
    expect(verdict(text)).toBeNull();
    expect(parseTimestamp(text)).toBe(at(iso));
  });

  it.each(REFUSED)("%s (%s) is refused at its line, with the form to use", (_, text) => {
    const problems = verdict(text);
    expect(problems).toHaveLength(1);
    expect(problems![0]).toMatch(/^6:8 start must be an RFC 3339 date and time with a zone, such as 2026-11-29T14:00:00Z; got /);
  });

  it("the window of a grant starting on a leap second is a real window", () => {
    const window = planWindow({ duration: "2h", start: "2026-12-31T23:59:60Z" }, new Date("2026-12-31T12:00:00Z"));
    expect(window.startsAt.toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(window.expiresAt.toISOString()).toBe("2027-01-01T02:00:00.000Z");
  });

  it("a grant recorded under the older schema (an offset without a colon) keeps the window it was approved for", () => {
    const window = planWindow({ duration: "2h", start: "2026-11-29T15:00:00+0100" }, new Date("2026-11-29T12:00:00Z"));
    expect(window.startsAt.toISOString()).toBe("2026-11-29T14:00:00.000Z");
    expect(() => planWindow({ duration: "2h", start: "2026-11-29T14:00:00+01" }, new Date("2026-11-29T12:00:00Z"))).toThrow(
      'start "2026-11-29T14:00:00+01" is not an RFC 3339 date-time',
    );
  });

  it("a leap-second start is still compared with the request time (not before it)", () => {
    expect(verdict("2026-12-31T23:59:60Z", new Date("2027-01-01T00:10:00Z"))).toEqual([
      "6:8 start 2026-12-31T23:59:60Z is before the request was made (2027-01-01T00:10:00.000Z)",
    ]);
  });
});

describe("a merged grant whose start is a leap second", () => {
  it("is scheduled for the next second instead of failing on every retry", async () => {
    const path = "grants/prod-admins/alice-1.yaml";
    const content = grantYaml({ resource: "prod-admins", role: "member", duration: "2h", start: "2026-12-31T23:59:60Z" });
    const sc: Scenario = {
      pr: prFields({ state: "closed", merged: true, labels: ["jit:pending"] }),
      files: [{ filename: path, status: "added", content }],
      policy: POLICY,
      codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS },
      reviews: [{ login: "pat", state: "APPROVED" }],
      comments: [{ id: 55, login: "", byApp: true, body: '<!-- jit-access:status -->\nApproved\n<!-- jit-access:state {"v":1,"status":"PENDING"} -->\n' }],
      memberships: { "@acme/engineering:alice": "active", "@acme/platform:pat": "active" },
    };
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc);
    mockApprovalReads(api, sc);
    // The record (the check run's text) is written first, then its display.
    const records: string[] = [];
    mockRecordWrites(api, 1, records);
    let body = "";
    api.patch(`${R}/issues/comments/55`, (b: any) => ((body = b.body), true)).reply(200, {});
    const { probot, app } = await startAppWithScheduler(fixedClock(new Date("2026-11-29T13:00:00Z")));
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
    expect(readState(body)).toMatchObject({ status: "SCHEDULED", starts_at: "2027-01-01T00:00:00.000Z", expires_at: "2027-01-01T02:00:00.000Z" });
    expect(records).toEqual([body]);
    // Due once, at a real moment: EARLY_START_MS (2 s) before the start.
    expect(new Date(app.scheduler.index.get("acme/access#7")!.dueAt).toISOString()).toBe("2026-12-31T23:59:58.000Z");
  });
});
