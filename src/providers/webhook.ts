import { Type } from "@sinclair/typebox";
import { createHmac } from "node:crypto";
import { EnvName } from "../schemas/common.js";
import { connectionTrouble, endpointSecrets, ProviderError, redact, requiredEnv, shownSafe, type Env, type GrantTarget, type Provider, type ProviderDefinition, type WebhookOptions } from "./types.js";

export type { WebhookOptions } from "./types.js";

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = { backoffMs: [500, 2_000, 8_000], timeoutMs: 10_000 };

/** Only the status matters; a receiver (or whatever answers for it) cannot make us read more. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** The provider as the table lists it. */
export const webhook = {
  name: "webhook" as const,
  description: "a signed event to a receiver of your own",
  docs: {
    changes: "POSTs a signed JSON event with `\"action\": \"apply\"` to your receiver; revoking sends `\"action\": \"revoke\"`",
    expiresAtTarget: "whatever your receiver enforces: the event carries `expires_at`",
    verifiedAgainst: { kind: "real server", how: "a real local HTTP receiver started by the tests" },
  },
  config: Type.Object(
    {
      url_env: { ...EnvName, title: "the name of the environment variable holding the receiver's URL" },
      secret_env: { ...EnvName, title: "the name of the environment variable holding the signing secret" },
    },
    { additionalProperties: false },
  ),
  // Passed through to the receiver as `grant` in the event: whatever the receiver understands.
  grant: Type.Record(Type.String({ pattern: "^[A-Za-z0-9_.-]{1,64}$" }), Type.Unknown(), { description: "settings for the receiver" }),
  create: ({ env, webhook: options }) => webhookProvider(env, options),
} satisfies ProviderDefinition;

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/**
 * `webhook`: a signed JSON event per apply and revoke. The grant's `id` is the idempotency key
 * (also sent as `Idempotency-Key: <id>:<action>`), so a receiver that keys access by it counts
 * references by itself; each apply is matched by exactly one revoke. `sent_at` (inside the
 * signed body) says when it was signed, so a receiver can refuse a replayed event. Network
 * errors, 5xx and 429 are retried with backoff; other answers fail at once. A redirect is a
 * failure and is never followed: the signed event goes to the configured URL or nowhere.
 */
export function webhookProvider(env: Env, options: WebhookOptions = DEFAULT_WEBHOOK_OPTIONS): Provider {
  async function send(t: GrantTarget, action: "apply" | "revoke"): Promise<void> {
    const url = requiredEnv(env, t.config, "url_env", t.resource);
    const secret = requiredEnv(env, t.config, "secret_env", t.resource);
    // fetch's own errors for these repeat the whole URL; checked here, the message names only the variable.
    const parsed = parseUrl(url);
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.username || parsed.password) {
      throw new ProviderError(`${t.resource}: the environment variable ${String(t.config.url_env)} (url_env) must hold an http(s) URL without a user or password`, false);
    }
    const body = JSON.stringify({
      action,
      id: t.id,
      requester: t.requester,
      resource: t.resource,
      role: t.role,
      starts_at: t.startsAt,
      expires_at: t.expiresAt,
      pull_request: t.pullRequest,
      grant: t.grant,
      // Signed once per send: the retries below repeat the event byte for byte.
      sent_at: new Date().toISOString(),
    });
    const headers = {
      "content-type": "application/json",
      "user-agent": "jit-access",
      "x-jit-event": action,
      "x-jit-signature-256": signature(secret, body),
      "idempotency-key": `${t.id}:${action}`,
    };
    let last = "";
    let lastDetail = "";
    for (let attempt = 0; attempt <= options.backoffMs.length; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, options.backoffMs[attempt - 1]));
      try {
        const response = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(options.timeoutMs) });
        await discardBody(response.body, MAX_RESPONSE_BYTES);
        if (response.ok) return;
        last = `HTTP ${response.status}`;
        if (response.status >= 300 && response.status < 400) {
          const where = String(t.config.url_env);
          throw new ProviderError(`${t.resource}: the receiver answered the ${action} event with a redirect (${last}); redirects are never followed: set ${where} to the receiver's final URL`, false);
        }
        if (response.status < 500 && response.status !== 429) throw new ProviderError(`${t.resource}: the receiver refused the ${action} event (${last})`, false);
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        // Shown: what went wrong, from the error's code; the socket's own words name the address.
        last = `could not reach the receiver (${connectionTrouble(error) ?? "network error"})`;
        lastDetail = redact(networkDetail(error), [url, secret]);
      }
    }
    const shown = `${t.resource}: the ${action} event was not accepted after ${options.backoffMs.length + 1} attempts (${shownSafe(last, endpointSecrets([url, secret]))})`;
    throw new ProviderError(shown, true, lastDetail ? `${shown}; last network error: ${lastDetail}` : undefined);
  }
  return {
    // Keyed by the grant itself: the receiver owns the mapping to access.
    units: (t) => [`webhook:${t.resource}:${t.id}`],
    held: async () => [],
    apply: (t) => send(t, "apply"),
    async revoke(t, units) {
      if (units.length > 0) await send(t, "revoke");
    },
    describe: (t) => `a signed "apply" event to the ${t.resource} receiver`,
  };
}

/**
 * Reads and drops at most `limit` bytes of a response body, then hangs up: reading lets a
 * well-behaved connection be reused, and the limit keeps an endless or huge answer from holding
 * the provider (or its memory) until the timeout.
 */
async function discardBody(body: ReadableStream<Uint8Array> | null, limit: number): Promise<void> {
  if (!body) return;
  const reader = body.getReader();
  let read = 0;
  try {
    while (read < limit) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
    }
  } catch {
    // A body that breaks off says nothing the status has not said.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** For the log: fetch says only "fetch failed"; the socket error that says why is its `cause`. */
function networkDetail(error: unknown): string {
  const words: string[] = [];
  for (let e = error as { message?: string; code?: string; cause?: unknown } | undefined, n = 0; e && n < 5; e = e.cause as typeof e, n++) {
    words.push([e.code, e.message].filter(Boolean).join(" "));
  }
  return words.filter(Boolean).join(": ");
}
