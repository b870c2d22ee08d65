import { afterEach, describe, expect, it } from "@jest/globals";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { GrantLife } from "../../src/cli/audit.js";
import { renderAuditHtml } from "../../src/cli/audit-html.js";
import { lanesBy, LATE_AFTER_MS, summarize, ticksOf, timeGrant } from "../../src/cli/audit-timeline.js";
import { runCli } from "../../src/cli/program.js";
import { grantYaml } from "../helpers/fixtures.js";
import { GitHistory } from "../helpers/git-history.js";

const NOW = new Date("2026-11-05T13:00:00Z");
const life = (over: Partial<GrantLife> = {}): GrantLife => ({
  path: "grants/prod-db/alice-1.yaml", pr: 7, requester: "alice", resource: "prod-db", role: "read-only", duration: "2h", approvers: ["bob"],
  breakGlass: false, reason: "Investigate INC-4211", ticket: null, start: null, merged: "2026-11-02T10:00:00.000Z", applied: null, expires: null,
  ended: "2026-11-02T12:00:00.000Z", outcome: "expired", revertPr: 9, endedBy: null, verified: true, unverified: [], ...over,
});
const at = (iso: string) => Date.parse(iso);

describe("the timeline's facts (pure)", () => {
  it("a revoke is late only more than 5 s after the planned end", () => {
    expect(timeGrant(life({ ended: "2026-11-02T12:00:05.000Z" }), 1, NOW).lateByMs).toBeNull();
    expect(timeGrant(life({ ended: "2026-11-02T12:00:05.001Z" }), 1, NOW).lateByMs).toBe(LATE_AFTER_MS + 1);
  });

  it("prefers the app's record (applied, expires_at, revoked_at) to the merge and the duration", () => {
    const g = timeGrant(life({ applied: "2026-11-02T10:00:03.000Z", expires: "2026-11-02T12:00:03.000Z", ended: "2026-11-02T12:00:04.000Z" }), 1, NOW);
    expect([g.start, g.plannedEnd, g.lateByMs, g.plannedDiffers]).toEqual([at("2026-11-02T10:00:03Z"), at("2026-11-02T12:00:03Z"), null, false]);
  });

  it("a scheduled start counts from the start, not the merge; an early revoke is early", () => {
    const g = timeGrant(life({ start: "2026-11-02T11:00:00.000Z", ended: "2026-11-02T11:30:00.000Z", outcome: "revoked" }), 1, NOW);
    expect([g.start, g.plannedEnd, g.early, g.plannedDiffers]).toEqual([at("2026-11-02T11:00:00Z"), at("2026-11-02T13:00:00Z"), true, true]);
  });

  it("a live grant runs to the report's time; past its planned end it is overdue", () => {
    const live = timeGrant(life({ merged: "2026-11-05T12:00:00.000Z", ended: null, outcome: "live" }), 1, NOW);
    expect([live.live, live.barEnd, live.overdueByMs]).toEqual([true, NOW.getTime(), null]);
    const overdue = timeGrant(life({ merged: "2026-11-05T10:00:00.000Z", ended: null, outcome: "live" }), 1, NOW);
    expect(overdue.overdueByMs).toBe(3_600_000);
  });

  it("a rejected grant never had access: no bar, and not counted in durations", () => {
    const g = timeGrant(life({ outcome: "rejected", ended: "2026-11-02T10:00:05.000Z" }), 1, NOW);
    expect([g.neverGranted, g.start, g.barEnd]).toEqual([true, null, null]);
    expect(summarize([g, timeGrant(life(), 2, NOW)]).medianDurationMs).toBe(2 * 3_600_000);
  });

  it("summarises: people case-insensitively, the median of an even count as the mean of the middle two", () => {
    const grants = [life({ requester: "Alice" }), life({ ended: "2026-11-02T11:00:00.000Z", outcome: "revoked" }), life({ requester: "bob", breakGlass: true, ended: "2026-11-02T11:00:42.000Z", duration: "1h" })].map((l, i) => timeGrant(l, i + 1, NOW));
    expect(summarize(grants)).toEqual({ grants: 3, people: 2, breakGlass: 1, medianDurationMs: 3_600_000 + 42_000, lateRevokes: 1, earlyRevokes: 1, live: 0, neverGranted: 0 });
  });

  it("stacks a person's overlapping grants in rows and keeps the others on one", () => {
    const grants = [
      life({ merged: "2026-11-02T10:00:00.000Z", ended: "2026-11-02T12:00:00.000Z" }),
      life({ merged: "2026-11-02T11:00:00.000Z", ended: "2026-11-02T13:00:00.000Z" }),
      life({ merged: "2026-11-02T14:00:00.000Z", ended: "2026-11-02T16:00:00.000Z" }),
      life({ requester: "bob", resource: "prod-admins" }),
    ].map((l, i) => timeGrant(l, i + 1, NOW));
    expect(lanesBy(grants, "person").map((l) => [l.key, l.rows.map((r) => r.map((g) => g.index))])).toEqual([["alice", [[1, 3], [2]]], ["bob", [[4]]]]);
    expect(lanesBy(grants, "resource").map((l) => l.key)).toEqual(["prod-admins", "prod-db"]);
  });

  it("puts axis ticks on whole hours or days", () => {
    expect(ticksOf({ from: at("2026-11-02T09:30:00Z"), to: at("2026-11-02T14:10:00Z") }).map((t) => t.label)).toEqual(["11-02 10:00", "11-02 11:00", "11-02 12:00", "11-02 13:00", "11-02 14:00"]);
    expect(ticksOf({ from: at("2026-11-01T09:00:00Z"), to: at("2026-11-05T14:00:00Z") }).map((t) => t.label)).toEqual(["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]);
  });
});

describe("renderAuditHtml (pure)", () => {
  it("escapes user text everywhere it appears, and allows only its own style and script", () => {
    const html = renderAuditHtml([life({ requester: "<b>x</b>", reason: "<script>alert(1)</script>", ticket: '"><img src=x onerror=alert(2)>' })], { title: "<i>t</i>", now: NOW, repoUrl: "https://github.com/acme/access" });
    for (const raw of ["<b>x</b>", "<script>alert(1)", "<img", "<i>t</i>"]) expect(html).not.toContain(raw);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;");
    expect(html).toMatch(/content="default-src &#39;none&#39;; style-src &#39;sha256-[^ ]+&#39;; script-src &#39;sha256-[^ ]+&#39;; base-uri &#39;none&#39;; form-action &#39;none&#39;"/);
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it("links PRs only with a repository; renders an empty history", () => {
    expect(renderAuditHtml([life()], { title: "t", now: NOW })).not.toContain("href=\"https");
    expect(renderAuditHtml([life()], { title: "t", now: NOW, repoUrl: "https://ghe.example/acme/access" })).toContain('href="https:&#x2F;&#x2F;ghe.example&#x2F;acme&#x2F;access&#x2F;pull&#x2F;7"');
    expect(renderAuditHtml([], { title: "t", now: NOW })).toContain("No grants in this history.");
  });
});

describe("jit audit --out", () => {
  let history: GitHistory | undefined;
  afterEach(() => history?.dispose());
  const jit = async (argv: string[], cwd: string) => {
    let stdout = "";
    let stderr = "";
    const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, now: () => NOW, env: {} });
    return { code, stdout, stderr };
  };

  it("writes any format to a file (relative to the working directory) and says so on stderr", async () => {
    history = new GitHistory();
    history.write("grants/prod-db/alice-1.yaml", grantYaml()).commit("2026-11-02T10:00:00Z", "jit: alice → prod-db/read-only for 2h (#7)");
    const csv = await jit(["audit", "--format", "csv", "--out", "audit.csv"], history.root);
    expect(csv).toEqual({ code: 0, stdout: "", stderr: "wrote audit.csv: 1 grant(s)\njit: warning: 1 grant(s) shown from git history alone, unverified: set GH_TOKEN to check their Jit-* trailers against jit-access's records\n" });
    expect(readFileSync(join(history.root, "audit.csv"), "utf8").split("\n")[1]).toBe("7,alice,prod-db,read-only,2h,,false,2026-11-02T10:00:00.000Z,,,,live,false,grants/prod-db/alice-1.yaml");
    const html = await jit(["audit", "--format", "html"], history.root);
    expect(html.stdout).toMatch(/^<!doctype html>/);
  });

  it("a file it cannot write is a one-line usage error (exit 2)", async () => {
    history = new GitHistory();
    history.write("grants/prod-db/alice-1.yaml", grantYaml()).commit("2026-11-02T10:00:00Z", "add (#7)");
    const r = await jit(["audit", "--format", "html", "--out", "no/such/dir/audit.html"], history.root);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^jit: cannot write no\/such\/dir\/audit\.html: ENOENT[^\n]*\n$/);
    expect(existsSync(join(history.root, "no"))).toBe(false);
  });
});
