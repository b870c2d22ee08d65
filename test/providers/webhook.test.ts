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
  config: { url_env: "BILLING_HOOK_URL", secret_env: "BILLING_HOOK_SECRET" },
  grant: { scope: "refunds" },
  startsAt: "2026-11-29T13:00:00.000Z",
  expiresAt: "2026-11-29T15:00:00.000Z",
  pullRequest: "https://github.com/acme/access/pull/7",
};
const provider = (env: Record<string, string> = { BILLING_HOOK_URL: receiver.url, BILLING_HOOK_SECRET: SECRET }) =>
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
    });
    expect(receiver.received[0]!.headers["idempotency-key"]).toBe("acme/access#7:apply");
    expect(receiver.received[1]!.body.action).toBe("revoke");
    expect(receiver.received[1]!.headers["idempotency-key"]).toBe("acme/access#7:revoke");
  });

  it("a receiver that checks signatures refuses an event signed with another secret", async () => {
    const p = provider({ BILLING_HOOK_URL: receiver.url, BILLING_HOOK_SECRET: "not-the-secret" });
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

  it("fails at once, without retrying, on another 4xx", async () => {
    receiver.script.push(400);
    await expect(provider().apply(target)).rejects.toMatchObject({ retryable: false });
    expect(receiver.received).toHaveLength(1);
  });

  it("says which environment variable is missing", async () => {
    await expect(provider({ BILLING_HOOK_URL: receiver.url }).apply(target)).rejects.toThrow(
      "billing-api: the environment variable BILLING_HOOK_SECRET (secret_env) is not set on the jit-access server",
    );
  });

  it("keys units by grant, so every apply is matched by its own revoke", () => {
    const p = provider();
    const other = { ...target, id: "acme/access#8" };
    expect(unitsToRevoke(p, target, [], [{ target: other, standing: [] }])).toEqual(["webhook:billing-api:acme/access#7"]);
  });
});
