import { createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { ProviderError, unitsToRevoke, type GrantTarget } from "../../src/providers/types.js";
import { webhookProvider } from "../../src/providers/webhook.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

const SECRET = "whsec-test-only-7f3a";
let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver(SECRET);
});
afterEach(() => receiver.close());

const target: GrantTarget = {
  id: "acme/access#7",
  requester: "alice",
  resource: "billing-api",
  role: "operator",
  provider: "webhook",
  config: { url_env: "JIT_BILLING_HOOK_URL", secret_env: "JIT_BILLING_HOOK_SECRET" },
  grant: { scope: "refunds" },
  startsAt: "2026-11-29T13:00:00.000Z",
  expiresAt: "2026-11-29T15:00:00.000Z",
  pullRequest: "https://github.com/acme/access/pull/7",
};
const provider = (env: Record<string, string> = { JIT_BILLING_HOOK_URL: receiver.url, JIT_BILLING_HOOK_SECRET: SECRET }) =>
  webhookProvider(env, { backoffMs: [10, 20, 40], timeoutMs: 2_000 });

describe("the webhook provider, against a real local receiver", () => {
  it("posts a signed apply event with the grant, and a signed revoke event", async () => {
    const p = provider();
    await p.apply(target);
    await p.revoke(target, unitsToRevoke(p, target, await p.held(target), []));
    expect(receiver.received.map((r) => r.signatureValid)).toEqual([true, true]);
    expect(receiver.received[0]!.body).toEqual({
      action: "apply",
      id: "acme/access#7",
      requester: "alice",
      resource: "billing-api",
      role: "operator",
      starts_at: "2026-11-29T13:00:00.000Z",
      expires_at: "2026-11-29T15:00:00.000Z",
      pull_request: "https://github.com/acme/access/pull/7",
      grant: { scope: "refunds" },
      sent_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
    expect(receiver.received[0]!.headers["idempotency-key"]).toBe("acme/access#7:apply");
    expect(receiver.received[1]!.body.action).toBe("revoke");
    expect(receiver.received[1]!.headers["idempotency-key"]).toBe("acme/access#7:revoke");
  });

  it("a receiver that checks signatures refuses an event signed with another secret", async () => {
    const p = provider({ JIT_BILLING_HOOK_URL: receiver.url, JIT_BILLING_HOOK_SECRET: "not-the-secret" });
    await expect(p.apply(target)).rejects.toThrow("billing-api: the receiver refused the apply event (HTTP 401)");
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.signatureValid).toBe(false);
  });

  it("retries 5xx, 429 and dropped connections with backoff, then succeeds", async () => {
    receiver.script.push(503, 429, 0);
    await provider().apply(target);
    expect(receiver.received).toHaveLength(4);
    expect(new Set(receiver.received.map((r) => r.raw)).size).toBe(1); // the same event, byte for byte
  });

  it("gives up after its attempts with a retryable error, and never shows the secret", async () => {
    receiver.script.push(500, 500, 500, 500);
    const error = (await provider().apply(target).catch((e: unknown) => e)) as ProviderError;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ retryable: true, message: "billing-api: the apply event was not accepted after 4 attempts (HTTP 500)" });
  });

  it("waits as long as a Retry-After asks when that is longer than its own backoff", async () => {
    receiver.script.push({ status: 503, headers: { "retry-after": "1" } });
    const started = Date.now();
    await provider().apply(target);
    // The backoff alone would have waited 10 ms; the receiver asked for a second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(receiver.received).toHaveLength(2);
  });

  it("stops retrying when a Retry-After asks for more than a minute: one request, a retryable error that says so", async () => {
    receiver.script.push({ status: 429, headers: { "retry-after": "3600" } });
    const error = (await provider().apply(target).catch((e: unknown) => e)) as ProviderError;
    expect(error).toMatchObject({ retryable: true, message: "billing-api: the apply event was not accepted after 1 attempt (HTTP 429: asked to retry after 3600 s, over the 60 s jit-access waits)" });
    expect(receiver.received).toHaveLength(1);
  });

  it("fails at once, without retrying, on another 4xx", async () => {
    receiver.script.push(400);
    await expect(provider().apply(target)).rejects.toMatchObject({ retryable: false });
    expect(receiver.received).toHaveLength(1);
  });

  it("says which environment variable is missing", async () => {
    await expect(provider({ JIT_BILLING_HOOK_URL: receiver.url }).apply(target)).rejects.toThrow(
      "billing-api: the environment variable JIT_BILLING_HOOK_SECRET (secret_env) is not set on the jit-access server",
    );
  });

  it("says when each event was signed (sent_at), so a receiver can refuse a replay", async () => {
    const before = Date.now();
    await provider().apply(target);
    const after = Date.now();
    const sentAt = Date.parse(receiver.received[0]!.body.sent_at);
    expect(sentAt).toBeGreaterThanOrEqual(before);
    expect(sentAt).toBeLessThanOrEqual(after);
    expect(receiver.received[0]!.signatureValid).toBe(true); // sent_at is inside the signed body
  });

  it("never follows a redirect: a 3xx is a failure, not retried, and the redirect's target hears nothing", async () => {
    const elsewhere = await startReceiver(SECRET);
    try {
      for (const status of [301, 302, 307, 308]) receiver.script.push({ status, headers: { location: elsewhere.url } });
      for (const status of [301, 302, 307, 308]) {
        await expect(provider().apply(target)).rejects.toMatchObject({
          retryable: false,
          message: `billing-api: the receiver answered the apply event with a redirect (HTTP ${status}); redirects are never followed: set JIT_BILLING_HOOK_URL to the receiver's final URL`,
        });
      }
      expect(receiver.received).toHaveLength(4);
      expect(elsewhere.received).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });

  it("reads at most 64 KiB of an answer: an endless body does not hold the apply", async () => {
    receiver.script.push({ status: 200, endless: true });
    const started = Date.now();
    await provider().apply(target); // the 2xx decides; the body is not needed
    await receiver.endlessClosed(); // the provider hung up, well before its 2 s timeout
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(receiver.received).toHaveLength(1);
  });

  it("keys units by grant, so every apply is matched by its own revoke", () => {
    const p = provider();
    const other = { ...target, id: "acme/access#8" };
    expect(unitsToRevoke(p, target, [], [{ target: other, standing: [] }])).toEqual(["webhook:billing-api:acme/access#7"]);
  });

  // Provider errors are shown on the PR: the receiver's address and path (which may carry a token) stay in the log.
  it("shows a receiver it cannot reach without its URL, host or port", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const url = `http://127.0.0.1:${port}/hooks/T0123/grant-token-9f2c`;
    const error = (await provider({ JIT_BILLING_HOOK_URL: url, JIT_BILLING_HOOK_SECRET: SECRET }).apply(target).catch((e: unknown) => e)) as ProviderError;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ retryable: true, message: "billing-api: the apply event was not accepted after 4 attempts (could not reach the receiver (connection refused))" });
    for (const hidden of [url, "127.0.0.1", String(port), "grant-token-9f2c", "T0123", SECRET]) expect(error.message).not.toContain(hidden);
    expect(error.detail).toContain("ECONNREFUSED");
    expect(error.detail).not.toContain("grant-token-9f2c");
  });

  it("shows an unknown host name without naming it", async () => {
    const env = { JIT_BILLING_HOOK_URL: "https://billing.payroll.invalid/hooks/jit", JIT_BILLING_HOOK_SECRET: SECRET };
    const error = (await provider(env).apply(target).catch((e: unknown) => e)) as ProviderError;
    expect(error.message).toBe("billing-api: the apply event was not accepted after 4 attempts (could not reach the receiver (host name not found))");
  });

  it("refuses a URL with a user or password, or not http(s), naming only the variable", async () => {
    for (const url of ["https://hook-user:hook-pass@billing.example/hooks", "ftp://billing.example/hooks", "not a url at billing.example"]) {
      const error = (await provider({ JIT_BILLING_HOOK_URL: url, JIT_BILLING_HOOK_SECRET: SECRET }).apply(target).catch((e: unknown) => e)) as ProviderError;
      expect(error).toMatchObject({
        retryable: false,
        message: "billing-api: the environment variable JIT_BILLING_HOOK_URL (url_env) must hold an http(s) URL without a user or password",
      });
    }
  });
});
