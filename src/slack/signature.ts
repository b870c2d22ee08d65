import { createHmac, timingSafeEqual } from "node:crypto";

/** Slack's limit: a request signed more than five minutes from now is refused (replays). */
export const SIGNATURE_MAX_AGE_S = 5 * 60;

/**
 * Slack's v0 request signing: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the
 * app's signing secret, compared in constant time. Pure: undefined when valid, else why not (for
 * the log; the caller answers 401 and changes nothing).
 */
export function signatureProblem(o: { secret: string; timestamp: string | undefined; signature: string | undefined; body: string; nowS: number }): string | undefined {
  if (!o.timestamp || !/^\d{1,12}$/.test(o.timestamp)) return "no X-Slack-Request-Timestamp";
  if (Math.abs(o.nowS - Number(o.timestamp)) > SIGNATURE_MAX_AGE_S) return "signed more than 5 minutes away from now";
  if (!o.signature || !/^v0=[0-9a-f]{64}$/.test(o.signature)) return "no v0 X-Slack-Signature";
  const expected = Buffer.from(`v0=${createHmac("sha256", o.secret).update(`v0:${o.timestamp}:${o.body}`).digest("hex")}`, "utf8");
  const given = Buffer.from(o.signature, "utf8");
  return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : "signature does not match";
}

/** How Slack signs a request (used by tests and the bench to act as Slack). */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}
