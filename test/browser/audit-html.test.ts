/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { runCli } from "../../src/cli/program.js";
import { POLICY } from "../helpers/fixtures.js";
import { GitHistory } from "../helpers/git-history.js";

/**
 * The HTML audit report in a real browser: Debian's chromium driven by puppeteer-core (nothing is
 * downloaded). The report is made by the real CLI from a real git history. A missing chromium
 * fails this test everywhere, with the way to fix it: it never skips.
 */
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));
const NOW = new Date("2026-11-05T13:00:00Z");

const HOSTILE_REASON = "<script>window.__pwned = 1</script> ticket sync";
const HOSTILE_TICKET = '"><img src=x onerror="window.__pwned=2">';
const HOSTILE_NAME = '"><img src=x onerror=window.__pwned=3>';

/** YAML from plain values: JSON strings are valid YAML double-quoted scalars, so any text survives as written. */
const yaml = (fields: Record<string, string | boolean>) => Object.entries(fields).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join("\n") + "\n";
const squash = (subject: string, ...trailers: string[]) => `${subject}\n\n${trailers.join("\n")}`;

function buildHistory(): GitHistory {
  const h = new GitHistory();
  h.write(".github/jit-access.yml", POLICY).commit("2026-11-01T09:00:00Z", "policy");
  // 1. alice, expired on time.
  h.write("grants/prod-db/alice-1.yaml", yaml({ requester: "alice", resource: "prod-db", role: "read-only", duration: "2h", reason: "Investigate INC-4211: slow checkout queries", ticket: "INC-4211" }))
    .commit("2026-11-02T10:00:00Z", squash("jit: alice → prod-db/read-only for 2h (#7)", "Jit-Requester: alice", "Jit-Approved-By: bob", "Jit-Approved-By: carol"));
  h.remove("grants/prod-db/alice-1.yaml").commit("2026-11-02T12:00:01Z", "jit: end #7 — alice prod-db/read-only expired (#9)");
  // 2. bob, revoked 7 h early; his reason and ticket are hostile.
  h.write("grants/prod-admins/bob-1.yaml", yaml({ requester: "bob", resource: "prod-admins", role: "member", duration: "8h", reason: HOSTILE_REASON, ticket: HOSTILE_TICKET }))
    .commit("2026-11-03T10:00:00Z", squash("jit: bob → prod-admins/member for 8h (#10)", "Jit-Requester: bob", "Jit-Approved-By: pat"));
  h.remove("grants/prod-admins/bob-1.yaml").commit("2026-11-03T11:00:00Z", "jit: end #10 — bob prod-admins/member revoked (#11)");
  // 3. carol, break-glass, revoked 42 s late.
  h.write("grants/prod-db/carol-1.yaml", yaml({ requester: "carol", resource: "prod-db", role: "read-write", duration: "1h", emergency: true, reason: "Outage INC-4300: checkout writes failing", ticket: "INC-4300" }))
    .commit("2026-11-04T10:00:00Z", squash("jit: carol → prod-db/read-write for 1h (#12)", "Jit-Requester: carol", "Jit-Approved-By: oscar", "Jit-Break-Glass: true"));
  h.remove("grants/prod-db/carol-1.yaml").commit("2026-11-04T11:00:42Z", "jit: end #12 — carol prod-db/read-write expired (#13)");
  // 4. A hostile name, merged without meeting the policy: reverted, never granted.
  h.write("grants/prod-db/mallory-1.yaml", yaml({ requester: HOSTILE_NAME, resource: "prod-db", role: "read-only", duration: "1h", reason: "Trust me, it is fine" }))
    .commit("2026-11-04T15:00:00Z", "Add grant (#15)");
  h.remove("grants/prod-db/mallory-1.yaml").commit("2026-11-04T15:00:05Z", "jit: revert #15 (merged without meeting the policy) (#16)");
  // 5. alice again, expired on time.
  h.write("grants/prod-db/alice-2.yaml", yaml({ requester: "alice", resource: "prod-db", role: "read-only", duration: "1h", reason: "Follow-up on INC-4211 indexes", ticket: "INC-4211" }))
    .commit("2026-11-05T09:00:00Z", squash("jit: alice → prod-db/read-only for 1h (#17)", "Jit-Requester: alice", "Jit-Approved-By: bob"));
  h.remove("grants/prod-db/alice-2.yaml").commit("2026-11-05T10:00:02Z", "jit: end #17 — alice prod-db/read-only expired (#18)");
  // 6. dave, live at the report's time.
  h.write("grants/prod-db/dave-1.yaml", yaml({ requester: "dave", resource: "prod-db", role: "read-only", duration: "4h", reason: "Nightly report reconciliation" }))
    .commit("2026-11-05T10:00:00Z", squash("jit: dave → prod-db/read-only for 4h (#19)", "Jit-Requester: dave", "Jit-Approved-By: bob"));
  return h;
}

let history: GitHistory;
let browser: Browser;
let reportFile: string;
const problems: string[] = [];
const requests: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing, so the HTML report cannot be tested in a real browser. Install Debian's chromium ` +
        `(apt-get update && apt-get install -y chromium; .ci/run does this). This test never skips${process.env.CI === "true" ? ", least of all under CI" : ""}.`,
    );
  }
  history = buildHistory();
  reportFile = join(history.root, "audit.html");
  let stderr = "";
  const code = await runCli(["audit", "--format", "html", "--out", reportFile, "-C", history.root, "--repo", "acme/access"], {
    stdout: () => {},
    stderr: (t) => (stderr += t),
    cwd: history.root,
    now: () => NOW,
    env: {},
  });
  // Offline (no token), the trailers cannot be checked against the app's records, and the CLI says so.
  expect({ code, stderr }).toEqual({
    code: 0,
    stderr: `wrote ${reportFile}: 6 grant(s)\njit: warning: 6 grant(s) shown from git history alone, unverified: set GH_TOKEN to check their Jit-* trailers against jit-access's records\n`,
  });
  browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ["--headless=new", "--no-sandbox"] });
});

afterAll(async () => {
  await browser?.close();
  history?.dispose();
});

async function open(options: { javascript?: boolean } = {}): Promise<Page> {
  const page = await browser.newPage();
  await page.setJavaScriptEnabled(options.javascript ?? true);
  await page.setViewport({ width: 1280, height: 900 });
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warn") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${(e as Error).message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(reportFile).href, { waitUntil: "load" });
  return page;
}

/** What a reader sees: elements that are rendered (not display:none, nor inside such). */
const visibleCount = (page: Page, selector: string) => page.$$eval(selector, (els) => els.filter((el) => (el as HTMLElement).getClientRects().length > 0).length);

describe("jit audit --format html, in chromium", () => {
  it("shows one table row and, in each timeline, one bar (or, never granted, one mark) per grant", async () => {
    const page = await open();
    expect(await page.$$eval("tbody tr", (rows) => rows.map((r) => r.id))).toEqual(["grant-1", "grant-2", "grant-3", "grant-4", "grant-5", "grant-6"]);
    for (const by of ["person", "resource"]) {
      expect(await page.$$eval(`.by-${by} g.grant`, (gs) => gs.map((g) => g.getAttribute("data-grant")).sort())).toEqual(["1", "2", "3", "4", "5", "6"]);
      expect(await page.$$eval(`.by-${by} g.grant rect.bar`, (bars) => bars.length)).toBe(5);
      expect(await page.$$eval(`.by-${by} g.grant .never-mark`, (marks) => marks.map((m) => m.closest("g")!.getAttribute("data-grant")))).toEqual(["4"]);
    }
    expect(await page.$$eval(".by-person [data-lane] .lane-key", (keys) => keys.map((k) => k.textContent))).toEqual([HOSTILE_NAME, "alice", "bob", "carol", "dave"]);
    expect(await page.$$eval(".by-resource [data-lane] .lane-key", (keys) => keys.map((k) => k.textContent))).toEqual(["prod-admins", "prod-db"]);
    // Bars are drawn where their times say: alice's 2 h grant is twice as wide as her 1 h one.
    const widths = await page.$$eval(".by-person g[data-person='alice'] rect.bar", (bars) => bars.map((b) => b.getBoundingClientRect().width));
    expect(widths[0]! / widths[1]!).toBeCloseTo(2, 1);
    await page.close();
  });

  it("marks break-glass loudly, early and late revokes, and planned ends where they differ", async () => {
    const page = await open();
    const row = (n: number) => page.$eval(`#grant-${n}`, (tr) => ({ cls: tr.className, ended: tr.lastElementChild!.textContent!.trim() }));
    expect(await row(3)).toEqual({ cls: "expired break-glass late", ended: "expired, revoked 42s late" });
    expect(await row(2)).toEqual({ cls: "early", ended: "revoked early, 7h before its planned end" });
    expect(await row(1)).toEqual({ cls: "expired", ended: "expired" });
    expect(await row(4)).toEqual({ cls: "never", ended: "rejected, never granted" });
    expect(await row(6)).toEqual({ cls: "live", ended: "live, until 2026-11-05 14:00:00 UTC" });
    expect(await page.$eval(".by-person g[data-grant='3'] .bg-label", (t) => t.textContent)).toBe("⚠ BREAK-GLASS");
    expect(await page.$eval(".by-person g[data-grant='3'] .late-label", (t) => t.textContent)).toBe("+42s");
    expect(await page.$eval(".by-person g[data-grant='3'] rect.bar", (r) => getComputedStyle(r).fill)).toBe("rgb(207, 34, 46)");
    expect(await page.$$eval(".by-person g.grant", (gs) => gs.filter((g) => g.querySelector("rect.rest")).map((g) => g.getAttribute("data-grant")))).toEqual(["2"]);
    expect(await page.$$eval(".by-person g.grant", (gs) => gs.filter((g) => g.querySelector("line.planned")).map((g) => g.getAttribute("data-grant")).sort())).toEqual(["2", "3", "6"]);
    expect(await page.$eval("#grant-2 a", (a) => a.getAttribute("href"))).toBe("https://github.com/acme/access/pull/10");
    expect(await page.$eval("#grant-2 td:nth-child(10) a", (a) => a.getAttribute("href"))).toBe("https://github.com/acme/access/pull/11");
    await page.close();
  });

  it("shows the summary figures", async () => {
    const page = await open();
    const figures = await page.$$eval(".figure", (fs) => Object.fromEntries(fs.map((f) => [f.querySelector(".label")!.textContent, f.querySelector(".value")!.textContent])));
    expect(figures).toEqual({
      grants: "6",
      people: "5",
      "break-glass grants": "1",
      "median duration (ended grants)": "1h",
      "late revokes (> 5 s)": "1",
      "early revokes": "1",
      "live now": "1",
      "never granted": "1",
    });
    expect(await page.$$eval(".figure.loud .label", (ls) => ls.map((l) => l.textContent))).toEqual(["break-glass grants", "late revokes (> 5 s)"]);
    await page.close();
  });

  it("filters by person, resource and date range, in the table and the timeline", async () => {
    const page = await open();
    const shown = async () => ({
      rows: await visibleCount(page, "tbody tr"),
      bars: await visibleCount(page, ".by-person rect.bar"),
      lanes: await visibleCount(page, ".by-person [data-lane]"),
      text: await page.$eval("#shown", (o) => o.textContent),
    });
    expect(await shown()).toEqual({ rows: 6, bars: 5, lanes: 5, text: "6 of 6 grants shown" });

    await page.select("select[name=person]", "alice");
    expect(await shown()).toEqual({ rows: 2, bars: 2, lanes: 1, text: "2 of 6 grants shown" });
    expect(await page.$$eval("tbody tr:not(.off)", (rows) => rows.map((r) => r.id))).toEqual(["grant-1", "grant-5"]);

    await page.select("select[name=person]", "");
    await page.select("select[name=resource]", "prod-admins");
    expect(await shown()).toEqual({ rows: 1, bars: 1, lanes: 1, text: "1 of 6 grants shown" });

    await page.select("select[name=resource]", "");
    // A date input takes typed digits in the browser's own format; setting the value and
    // announcing it is what a picker does.
    await page.$eval("input[name=from]", (el) => ((el as HTMLInputElement).value = "2026-11-04", el.dispatchEvent(new Event("input", { bubbles: true }))));
    await page.$eval("input[name=to]", (el) => ((el as HTMLInputElement).value = "2026-11-04", el.dispatchEvent(new Event("input", { bubbles: true }))));
    expect(await page.$$eval("tbody tr:not(.off)", (rows) => rows.map((r) => r.id))).toEqual(["grant-3", "grant-4"]);
    expect(await shown()).toEqual({ rows: 2, bars: 1, lanes: 2, text: "2 of 6 grants shown" });

    await page.click("button[type=reset]");
    await page.waitForFunction(() => document.getElementById("shown")!.textContent === "6 of 6 grants shown");
    expect(await shown()).toEqual({ rows: 6, bars: 5, lanes: 5, text: "6 of 6 grants shown" });
    await page.close();
  });

  it("toggles the timeline between people and resources", async () => {
    const page = await open();
    expect([await visibleCount(page, ".by-person"), await visibleCount(page, ".by-resource")]).toEqual([1, 0]);
    await page.click("label[for=by-resource]");
    expect([await visibleCount(page, ".by-person"), await visibleCount(page, ".by-resource")]).toEqual([0, 1]);
    expect(await visibleCount(page, ".by-resource [data-lane]")).toBe(2);
    await page.close();
  });

  it("shows hostile reasons, tickets and names as text: nothing injected runs or exists", async () => {
    const page = await open();
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.$$eval("img", (imgs) => imgs.length)).toBe(0);
    expect(await page.$$eval("script", (scripts) => scripts.length)).toBe(1);
    expect(await page.$$eval("[onerror]", (els) => els.length)).toBe(0);
    expect(await page.$eval("#grant-2 td.text", (td) => td.textContent)).toBe(HOSTILE_REASON);
    expect(await page.$eval("#grant-2 td:nth-child(9)", (td) => td.textContent)).toBe(HOSTILE_TICKET);
    expect(await page.$eval("#grant-4 td:nth-child(2)", (td) => td.textContent)).toBe(HOSTILE_NAME);
    expect(await page.$$eval("select[name=person] option", (os) => os.map((o) => o.textContent))).toContain(HOSTILE_NAME);
    expect(await page.$eval(".by-person g[data-grant='4'] title", (t) => t.textContent)).toBe(`#15 · ${HOSTILE_NAME} · prod-db/read-only for 1h · rejected, never granted`);
    // Filtering by the hostile name works on the name as written.
    await page.select("select[name=person]", HOSTILE_NAME);
    expect(await page.$$eval("tbody tr:not(.off)", (rows) => rows.map((r) => r.id))).toEqual(["grant-4"]);
    await page.close();
    // And the file itself holds the text escaped, never as markup.
    const html = readFileSync(reportFile, "utf8");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<script>window");
  });

  it("reads without JavaScript (no filter form, everything shown) and prints without the controls", async () => {
    const page = await open({ javascript: false });
    expect(await visibleCount(page, "#filters")).toBe(0);
    expect(await visibleCount(page, "tbody tr")).toBe(6);
    expect(await visibleCount(page, ".by-person rect.bar")).toBe(5);
    await page.click("label[for=by-resource]"); // the toggle is CSS only
    expect(await visibleCount(page, ".by-resource rect.bar")).toBe(5);
    await page.close();

    const printed = await open();
    await printed.emulateMediaType("print");
    expect([await visibleCount(printed, "#filters"), await visibleCount(printed, ".toggle"), await visibleCount(printed, "tbody tr")]).toEqual([0, 0, 6]);
    await printed.close();
  });

  it("saves a screenshot, and nothing in all of the above logged an error or fetched anything", async () => {
    const page = await open();
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "audit-timeline.png"), fullPage: true });
    await page.close();
    expect(existsSync(join(ARTIFACTS, "audit-timeline.png"))).toBe(true);
    expect(problems).toEqual([]);
    // The page itself, and the browser's own data: images (a date input's calendar icon); nothing else.
    const fetched = requests.filter((url) => !url.startsWith("data:"));
    expect(new Set(fetched)).toEqual(new Set([pathToFileURL(reportFile).href]));
  });
});
