import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * Tokens at rest: AES-256-GCM with a key from the environment (JIT_SLACK_TOKEN_KEY, 32 bytes as
 * base64 or hex). The store key is the additional authenticated data, so a sealed value moved
 * under another person's key does not open.
 */
export function parseSealKey(text: string | undefined): Buffer | string {
  const t = (text ?? "").trim();
  if (!t) return "JIT_SLACK_TOKEN_KEY is not set (32 random bytes as base64, e.g. `openssl rand -base64 32`)";
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  return key.length === 32 ? key : "JIT_SLACK_TOKEN_KEY must be 32 bytes as base64 or 64 hex digits";
}

export function seal(key: Buffer, aad: string, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}`;
}

/** The plain text, or undefined when the value was not sealed with this key for this store key. */
export function unseal(key: Buffer, aad: string, sealed: string): string | undefined {
  if (!sealed.startsWith("v1.")) return undefined;
  const raw = Buffer.from(sealed.slice(3), "base64");
  if (raw.length < 28) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    return undefined;
  }
}
