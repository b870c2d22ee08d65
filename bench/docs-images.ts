import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { marked } from "marked";
import puppeteer from "puppeteer-core";
import { evaluatePullRequest } from "../src/handlers/evaluate.js";
import { providerFactory } from "../src/providers/registry.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { openRequest } from "../testkit/people.js";
import { TOUR_CODEOWNERS, TOUR_GRANT, TOUR_GRANT_PATH, TOUR_POLICY } from "./docs/tour.js";

/**
 * `npm run docs:images`: the pictures of the README's tour, taken from what the app really writes.
 * The tour's policy, CODEOWNERS and grant go into the in-memory GitHub; the app's real evaluation
 * and `github-team` provider judge, merge and apply the request while this script plays alice and
 * the approvers. The status comment and the check run the app wrote are rendered from their
 * Markdown (marked) into a page styled like GitHub's, and Debian's chromium (puppeteer-core,
 * nothing downloaded) takes the screenshots into docs/images/.
 */
const APP_ID = 1;
const CHROMIUM = "/usr/bin/chromium";
const OUT = fileURLToPath(new URL("../../docs/images/", import.meta.url));
const ref = { owner: "acme", repo: "access" };
// A fixed clock, so that the pictures only change when what the app writes changes.
const clock = { at: new Date("2026-12-07T09:00:00Z") };
const now = () => new Date(clock.at);

const fake = new FakeGitHub({ appId: APP_ID, now: () => now() });
fake.addRepo("acme", "access", { ".github/jit-access.yml": TOUR_POLICY, ".github/CODEOWNERS": TOUR_CODEOWNERS }, { writers: ["alice", "carol", "dave"] });
fake.addMember("@acme/engineering", "alice");
fake.addMember("@acme/platform", "carol");
fake.addMember("@acme/security", "dave");

async function app(number: number): Promise<void> {
  const log = { info() {}, warn() {}, error: (m: string) => console.error(`app: ${m}`) };
  await evaluatePullRequest(fake.client(), { ...ref, number }, { appId: APP_ID, now, providers: providerFactory({}) }, log);
}

/** The app's status comment and its newest jit-access check run on the request's head. */
function shown(number: number): { comment: string; check: { title: string; summary: string; text: string; conclusion: string | null; status: string } } {
  const pull = fake.pull("acme/access", number);
  const comment = pull.comments.find((c) => c.appId === APP_ID)?.body ?? "";
  const runs = fake.repo("acme", "access")!.checkRuns.filter((r) => r.headSha === pull.headSha && r.appId === APP_ID && r.name === "jit-access");
  const run = runs.sort((a, b) => b.id - a.id)[0]!;
  return { comment, check: { ...run.output, conclusion: run.conclusion, status: run.status } };
}

const CSS = `body{margin:0;padding:16px;background:#fff;font:14px/1.5 -apple-system,"Segoe UI","Noto Sans",Helvetica,Arial,sans-serif;color:#1f2328;width:760px}
.box{border:1px solid #d1d9e0;border-radius:6px;overflow:hidden}
.head{background:#f6f8fa;border-bottom:1px solid #d1d9e0;padding:8px 16px;color:#59636e}
.head b{color:#1f2328}.body{padding:8px 16px 16px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d1d9e0;padding:6px 13px}
h3{margin:8px 0;font-size:18px}h2{font-size:20px;margin:8px 0}code{background:#eff1f3;border-radius:6px;padding:2px 5px;font-size:85%}
.state{display:inline-block;border-radius:2em;padding:2px 10px;color:#fff;font-weight:600;font-size:12px}
.in_progress{background:#9a6700}.success{background:#1a7f37}.failure{background:#d1242f}
sub{color:#59636e}`;

const page = (inner: string) => `<!doctype html><html><head><meta charset="utf-8"><style>${CSS}</style></head><body><div class="box">${inner}</div></body></html>`;

function commentPage(markdown: string): string {
  return page(`<div class="head"><b>jit-access</b> <span>bot</span> commented</div><div class="body">${marked.parse(markdown, { async: false })}</div>`);
}

function checkPage(check: ReturnType<typeof shown>["check"]): string {
  const state = check.status === "completed" ? (check.conclusion ?? "neutral") : "in_progress";
  const label = state === "in_progress" ? "In progress" : state === "success" ? "Success" : state;
  return page(
    `<div class="head"><b>jit-access</b> check run · <span class="state ${state}">${label}</span></div>` +
      `<div class="body"><h2>${marked.parseInline(check.title, { async: false })}</h2>${marked.parse(check.summary, { async: false })}${marked.parse(check.text ?? "", { async: false })}</div>`,
  );
}

const alice = fake.as("alice");
const number = (await openRequest(alice, ref, { branch: "alice-prod-admins", path: TOUR_GRANT_PATH, content: TOUR_GRANT, title: "jit: alice → prod-admins/member for 2h" }))!;
await app(number);
clock.at = new Date("2026-12-07T09:05:00Z");
await fake.as("carol").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
await app(number);
const pending = shown(number);
clock.at = new Date("2026-12-07T09:12:00Z");
await fake.as("dave").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
await app(number); // every group approved: the app merges it
await app(number); // the merged event: the app applies the grant
const granted = shown(number);
if (!fake.isMember("@acme/prod-admins", "alice")) throw new Error("the tour's grant was not applied: the pictures would show a failure");

mkdirSync(OUT, { recursive: true });
const browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ["--headless=new", "--no-sandbox"] });
try {
  const shots: [string, string][] = [
    ["comment-pending.png", commentPage(pending.comment)],
    ["check-pending.png", checkPage(pending.check)],
    ["comment-granted.png", commentPage(granted.comment)],
    ["check-granted.png", checkPage(granted.check)],
  ];
  for (const [name, html] of shots) {
    const tab = await browser.newPage();
    await tab.setViewport({ width: 800, height: 200, deviceScaleFactor: 1 });
    await tab.setContent(html, { waitUntil: "load" });
    const box = await tab.$(".box");
    await box!.screenshot({ path: `${OUT}${name}` });
    await tab.close();
    console.log(`wrote docs/images/${name}`);
  }
} finally {
  await browser.close();
}
