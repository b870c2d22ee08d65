import { describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { mkdtempSync, statSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { slackMessage, showsButtons, statusLine, type SlackRequestView } from "../../src/present/slack.js";
import { linkPage } from "../../src/present/slack-pages.js";
import { AccountLinks } from "../../src/slack/links.js";
import { parseSealKey, seal, unseal } from "../../src/slack/seal.js";
import { slackSettings } from "../../src/slack/setup.js";
import { signatureProblem, slackSignature } from "../../src/slack/signature.js";
import { FileKeyValue, MemoryKeyValue } from "../../src/slack/store.js";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const BODY = "payload=%7B%22type%22%3A%22block_actions%22%7D";

describe("Slack's v0 request signature", () => {
  const now = 1_700_000_000;
  const check = (o: Partial<Parameters<typeof signatureProblem>[0]>) => signatureProblem({ secret: SECRET, timestamp: String(now), signature: slackSignature(SECRET, now, BODY), body: BODY, nowS: now, ...o });

  it("accepts Slack's HMAC-SHA256 over v0:timestamp:body, within five minutes either way", () => {
    expect(check({})).toBeUndefined();
    expect(check({ nowS: now + 300 })).toBeUndefined();
    expect(check({ nowS: now - 300 })).toBeUndefined();
  });

  it("refuses another secret, another body, an old or future timestamp, a missing or malformed header", () => {
    expect(check({ secret: "other" })).toBe("signature does not match");
    expect(check({ body: `${BODY}x` })).toBe("signature does not match");
    expect(check({ nowS: now + 301 })).toBe("signed more than 5 minutes away from now");
    expect(check({ nowS: now - 301 })).toBe("signed more than 5 minutes away from now");
    expect(check({ timestamp: undefined })).toBe("no X-Slack-Request-Timestamp");
    expect(check({ timestamp: "1e9" })).toBe("no X-Slack-Request-Timestamp");
    expect(check({ signature: undefined })).toBe("no v0 X-Slack-Signature");
    expect(check({ signature: "v1=abc" })).toBe("no v0 X-Slack-Signature");
  });

  it("matches Slack's documented example", () => {
    // api.slack.com/authentication/verifying-requests-from-slack
    const body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    expect(slackSignature(SECRET, 1531420618, body)).toBe("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503");
  });
});

describe("tokens at rest", () => {
  const key = randomBytes(32);
  it("open only with the same key and the same store key", () => {
    const sealed = seal(key, "link:T:U1", "ghu_secret");
    expect(sealed).not.toContain("ghu_secret");
    expect(unseal(key, "link:T:U1", sealed)).toBe("ghu_secret");
    expect(unseal(key, "link:T:U2", sealed)).toBeUndefined();
    expect(unseal(randomBytes(32), "link:T:U1", sealed)).toBeUndefined();
    expect(unseal(key, "link:T:U1", `${sealed.slice(0, -4)}AAAA`)).toBeUndefined();
  });

  it("take their key as 32 bytes of base64 or hex, and say what is wrong otherwise", () => {
    expect(parseSealKey(key.toString("base64"))).toEqual(key);
    expect(parseSealKey(key.toString("hex"))).toEqual(key);
    expect(parseSealKey("")).toMatch(/JIT_SLACK_TOKEN_KEY is not set/);
    expect(parseSealKey("c2hvcnQ=")).toMatch(/must be 32 bytes/);
  });

  it("live in a 0600 file that survives a restart; links older than the configured age count as absent", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "jit-slack-unit-")), "state.json");
    let now = Date.parse("2026-12-01T00:00:00Z");
    const links = new AccountLinks(await FileKeyValue.open(path, () => now), key, 24 * 3600_000, () => new Date(now));
    await links.save("T:U1", { login: "bob", githubId: 7, token: "ghu_secret", refreshToken: "ghr_secret", linkedAt: new Date(now).toISOString() });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).not.toMatch(/ghu_secret|ghr_secret/);
    const reopened = new AccountLinks(await FileKeyValue.open(path, () => now), key, 24 * 3600_000, () => new Date(now));
    expect(await reopened.get("T:U1")).toMatchObject({ login: "bob", token: "ghu_secret" });
    now += 24 * 3600_000 + 1;
    expect(await reopened.get("T:U1")).toBeUndefined();
  });

  it("link states are single-use and expire after 10 minutes", async () => {
    let now = 0;
    const links = new AccountLinks(new MemoryKeyValue(() => now), key, 3600_000, () => new Date(now));
    const state = await links.newState("T:U1");
    expect(await links.peekState(state)).toBe("T:U1");
    expect(await links.takeState(state)).toBe("T:U1");
    expect(await links.takeState(state)).toBeUndefined();
    const late = await links.newState("T:U1");
    now += 10 * 60_000 + 1;
    expect(await links.takeState(late)).toBeUndefined();
    expect(await links.takeState("../../etc")).toBeUndefined();
  });
});

describe("the request message (pure)", () => {
  const view: SlackRequestView = {
    key: "repo:1#7", channel: "C1", owner: "acme", repo: "access", number: 7, url: "https://github.com/acme/access/pull/7",
    headSha: "a".repeat(40), open: true, requester: "alice", access: "prod-db · read-only", duration: "1h",
    reason: "<https://evil.example|click> & <@U123> <!here>", emergency: false, status: "PENDING",
    approvers: [], waitingFor: ["@acme/dba"], warned: false, chat: true, requesterId: 1,
  };

  it("escapes people's text: no link, mention or broadcast can be smuggled in", () => {
    const json = JSON.stringify(slackMessage(view).blocks);
    expect(json).toContain("&lt;https://evil.example|click&gt; &amp; &lt;@U123&gt; &lt;!here&gt;");
    expect(json).not.toMatch(/<!here>|<@U123>|<https:\/\/evil/);
  });

  it("shows buttons only while pending, open and allowed, pinned to the head it shows", () => {
    const value = (v: SlackRequestView) => (slackMessage(v).blocks.find((b) => b.type === "actions") as { elements: { action_id: string; value?: string }[] }).elements.filter((e) => e.value).map((e) => [e.action_id, JSON.parse(e.value!).sha]);
    expect(value(view)).toEqual([["jit_approve", "a".repeat(40)], ["jit_reject", "a".repeat(40)]]);
    expect(value({ ...view, chat: false })).toEqual([]);
    expect(value({ ...view, open: false })).toEqual([]);
    expect(value({ ...view, status: "APPROVED" })).toEqual([]);
    expect(showsButtons({ ...view, emergency: true, chat: false })).toBe(false);
  });

  it("says where the request is", () => {
    expect(statusLine({ ...view, approvers: ["bob"], waitingFor: ["@acme/security"] })).toBe("✅ Approved by bob · ⏳ Waiting for @acme/security");
    expect(statusLine({ ...view, status: "APPROVED", approvers: ["bob"], expiresAt: "2026-12-07T02:00:00Z" })).toBe("🟢 Applied until 2026-12-07 02:00 UTC (approved by bob)");
    expect(statusLine({ ...view, status: "APPROVED", approvers: ["bob"], warned: true, expiresAt: "2026-12-07T02:00:00Z" })).toBe("⌛ Expiring soon: applied until 2026-12-07 02:00 UTC (approved by bob)");
    expect(statusLine({ ...view, status: "REJECTED", open: false, rejectedBy: "bob", endedBy: "not <now>" })).toBe("❌ Rejected by bob: not &lt;now&gt;");
  });

  it("the link page escapes the authorization URL it links to", () => {
    expect(linkPage('https://github.com/login/oauth/authorize?a=1&b="x"')).toContain('href="https://github.com/login/oauth/authorize?a=1&amp;b=&quot;x&quot;"');
  });
});

describe("settings from the environment", () => {
  it("off without a bot token; with one, every other setting or a clear list of what is missing, never a value", () => {
    expect(slackSettings({})).toBeUndefined();
    const missing = slackSettings({ JIT_SLACK_BOT_TOKEN: "xoxb-secret-value" });
    expect(missing).toEqual({ problems: expect.arrayContaining([expect.stringMatching(/^JIT_SLACK_SIGNING_SECRET is not set/), expect.stringMatching(/^JIT_PUBLIC_URL is not set/), expect.stringMatching(/^GITHUB_CLIENT_ID is not set/), expect.stringMatching(/^JIT_SLACK_TOKEN_KEY is not set/)]) });
    expect(JSON.stringify(missing)).not.toContain("xoxb-secret-value");
    const ok = slackSettings({ JIT_SLACK_BOT_TOKEN: "xoxb-1", JIT_SLACK_SIGNING_SECRET: "s", JIT_PUBLIC_URL: "https://jit.example.com/", GITHUB_CLIENT_ID: "Iv1.x", GITHUB_CLIENT_SECRET: "y", JIT_SLACK_TOKEN_KEY: randomBytes(32).toString("base64"), JIT_SLACK_LINK_MAX_AGE: "12h" });
    expect(ok && "settings" in ok && [ok.settings.publicUrl, ok.settings.linkMaxAgeMs, ok.settings.stateFile]).toEqual(["https://jit.example.com", 12 * 3600_000, ".jit-access/slack-state.json"]);
  });
});
