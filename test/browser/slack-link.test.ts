/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import puppeteer, { type Browser } from "puppeteer-core";
import { FakeGitHub } from "../../testkit/fake-github.js";
import { startSlackHarness, type SlackHarness } from "../../testkit/slack-app.js";
import { slackPerson } from "../../src/slack/links.js";

/**
 * The account-link page the app serves itself, in Debian's chromium through puppeteer-core: the
 * person reads it, clicks through to GitHub (played by request interception: GitHub's authorize
 * page sends them back with a code from the in-memory GitHub), and lands on the app's "linked"
 * page. A missing chromium fails this test everywhere: it never skips.
 */
const CHROMIUM = "/usr/bin/chromium";
let browser: Browser;
let fake: FakeGitHub;
let h: SlackHarness;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing, so the link page cannot be tested in a real browser. Install Debian's chromium (apt-get install -y chromium; .ci/run does this). This test never skips${process.env.CI === "true" ? ", least of all under CI" : ""}.`);
  }
  fake = new FakeGitHub({ appId: 93 });
  fake.addRepo("acme", "access", { ".github/jit-access.yml": "version: 1\nresources:\n  db:\n    provider: github-team\n    config: { org: acme, team: db }\n    roles:\n      member: {}\n" }, { writers: ["bob"] });
  h = await startSlackHarness(fake);
  browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ["--headless=new", "--no-sandbox"] });
});

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

describe("the Slack account-link page, in chromium", () => {
  it("explains, sends the person to GitHub with the single-use state, and shows whom they linked; the link then no longer works", async () => {
    const state = await h.slackApp.links.newState(slackPerson("T0JIT", "U0BOB"));
    const page = await browser.newPage();
    const problems: string[] = [];
    const elsewhere: string[] = [];
    page.on("pageerror", (e) => problems.push((e as Error).message));
    // Failed loads are checked by their responses below (the browser's own favicon request answers 404).
    page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && problems.push(m.text()));
    const failed: string[] = [];
    page.on("response", (r) => r.status() >= 400 && failed.push(`${r.status()} ${new URL(r.url()).pathname}`));
    await page.setRequestInterception(true);
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (url.origin === h.base) return void r.continue();
      if (url.origin + url.pathname === "https://github.com/login/oauth/authorize") {
        // bob clicks "Authorize" on GitHub: GitHub sends him back to the callback the app asked for.
        elsewhere.push(r.url());
        const back = new URL(url.searchParams.get("redirect_uri")!);
        back.searchParams.set("code", fake.authorize("bob"));
        back.searchParams.set("state", url.searchParams.get("state")!);
        return void r.respond({ status: 302, headers: { location: back.toString() } });
      }
      elsewhere.push(r.url());
      return void r.abort();
    });

    await page.goto(`${h.base}/slack/link?state=${state}`, { waitUntil: "load" });
    expect(await page.title()).toBe("Link your GitHub account to Slack");
    expect(await page.$eval("body", (b) => (b as HTMLElement).innerText)).toContain("your own GitHub reviews");
    const button = await page.$eval("#authorize", (a) => ({ text: (a as HTMLElement).innerText, visible: (a as HTMLElement).getClientRects().length > 0 }));
    expect(button).toEqual({ text: "Continue on GitHub", visible: true });

    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("#authorize")]);
    expect(new URL(page.url()).pathname).toBe("/slack/oauth/callback");
    // The GitHub account's holder confirms which Slack account it will act for: nothing is linked before.
    expect(await page.$eval("#slack-account", (p) => (p as HTMLElement).innerText)).toContain("Bob Approver");
    expect(await h.slackApp.links.get(slackPerson("T0JIT", "U0BOB"))).toBeUndefined();
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("#confirm")]);
    expect(await page.$eval("#result", (p) => (p as HTMLElement).innerText)).toBe("Your Slack account is now linked to GitHub @bob. Go back to Slack and click again.");
    expect(await h.slackApp.links.get(slackPerson("T0JIT", "U0BOB"))).toMatchObject({ login: "bob" });
    // Only GitHub's authorize page was asked for outside the app, with the app's client id and the state.
    expect(elsewhere).toHaveLength(1);
    const authorize = new URL(elsewhere[0]!);
    expect([authorize.searchParams.get("client_id"), authorize.searchParams.get("state")]).toEqual([fake.oauthClient.id, state]);

    const again = await page.goto(`${h.base}/slack/link?state=${state}`, { waitUntil: "load" });
    expect(again!.status()).toBe(400);
    expect(await page.$eval("#result", (p) => (p as HTMLElement).innerText)).toBe("This link has expired or was already used.");
    expect(problems).toEqual([]);
    expect(failed.filter((f) => f !== "404 /favicon.ico")).toEqual(["400 /slack/link"]);
    await page.close();
  });
});
