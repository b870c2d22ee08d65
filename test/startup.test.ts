import { describe, expect, it } from "@jest/globals";
import { startupProblems } from "../src/config.js";

/**
 * Start-up refuses a configuration that would run unsafely: with APP_ID set (the app itself,
 * not Probot's setup flow) and no WEBHOOK_SECRET, Probot would verify webhook signatures with the
 * publicly known secret "development", so anyone could forge events.
 */
const KEY = "-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----";
const NO_SECRET =
  'WEBHOOK_SECRET is not set: refusing to start, because Probot would then check webhook signatures with the publicly known secret "development" and anyone could forge events. Set WEBHOOK_SECRET to the webhook secret of the GitHub App.';

describe("start-up checks (pure)", () => {
  it("the setup flow (no APP_ID) needs nothing", () => {
    expect(startupProblems({})).toEqual([]);
    expect(startupProblems({ APP_ID: "" })).toEqual([]);
  });

  it("with APP_ID, a missing or empty WEBHOOK_SECRET stops the start", () => {
    expect(startupProblems({ APP_ID: "12345", PRIVATE_KEY: KEY })).toEqual([NO_SECRET]);
    expect(startupProblems({ APP_ID: "12345", PRIVATE_KEY: KEY, WEBHOOK_SECRET: "  " })).toEqual([NO_SECRET]);
  });

  it("Probot's fallback secret itself is refused", () => {
    expect(startupProblems({ APP_ID: "12345", WEBHOOK_SECRET: "development" })).toEqual([
      'WEBHOOK_SECRET is "development", Probot\'s publicly known default: refusing to start. Set WEBHOOK_SECRET to the webhook secret of the GitHub App.',
    ]);
  });

  it("with APP_ID and a secret, starts; the secret never appears in a message", () => {
    expect(startupProblems({ APP_ID: "12345", PRIVATE_KEY: KEY, WEBHOOK_SECRET: "s3cr3t-value" })).toEqual([]);
    const problems = startupProblems({ APP_ID: "12345", WEBHOOK_SECRET: "s3cr3t-value", JIT_ACCESS_REPOSITORIES: "acme" });
    expect(problems.join("\n")).not.toContain("s3cr3t-value");
  });

  it("a malformed JIT_ACCESS_REPOSITORIES stops the start too", () => {
    expect(startupProblems({ APP_ID: "12345", WEBHOOK_SECRET: "s3cr3t-value", JIT_ACCESS_REPOSITORIES: "acme/access,acme" })).toEqual([
      'JIT_ACCESS_REPOSITORIES: "acme" is not owner/repo (expected a comma-separated list such as acme/access,acme/tools)',
    ]);
  });
});
