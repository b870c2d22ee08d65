import type { TSchema } from "@sinclair/typebox";
import type { GitHub } from "../github/client.js";

/**
 * A provider applies and revokes one grant at one kind of target (docs/reference/provider-contract.md). Access is
 * described as *units* (one team membership, one PostgreSQL role) so that reference counting
 * is a pure set computation: revoking removes only units that were not held before the grant
 * and that no other live grant still gives.
 */
export interface GrantTarget {
  /** Stable per grant and the idempotency key: `<owner>/<repo>#<number>`. */
  id: string;
  requester: string;
  /**
   * The requester's GitHub account id, when known. A login can be renamed during a grant; the id
   * cannot, so providers that act on GitHub accounts (github-team) resolve the current login by
   * it, and fall back to `requester` only without it.
   */
  requesterId?: number | undefined;
  resource: string;
  role: string;
  provider: string;
  config: Record<string, unknown>;
  grant: Record<string, unknown>;
  startsAt: string;
  expiresAt: string;
  /** The request PR's URL. */
  pullRequest: string;
}

export interface Provider {
  /** What this grant gives, as comparable unit keys (they name the target and the person). */
  units(target: GrantTarget): string[];
  /** Which of those units the requester holds right now: read before applying, to keep standing access. */
  held(target: GrantTarget): Promise<string[]>;
  /**
   * Gives the access. Idempotent. A provider whose access is something handed to the person (an
   * SSH certificate) returns it as `handover`: public text posted on the request PR once applied.
   */
  apply(target: GrantTarget): Promise<Applied | void>;
  /** Takes away exactly these units (already reduced by `unitsToRevoke`). Idempotent. */
  revoke(target: GrantTarget, units: readonly string[]): Promise<void>;
  /** One line for people: "add alice to acme/prod-admins". */
  describe(target: GrantTarget): string;
}

/**
 * What an apply hands to the requester, shown on the request PR: never a secret (a certificate is
 * public; a private key never passes through the app). `summary` is one line of words, `content`
 * the text itself (shown verbatim in a code block).
 */
export interface Handover {
  summary: string;
  content: string;
}

/** An apply's result, for providers that have something to hand over. */
export interface Applied {
  handover?: Handover | undefined;
}

/** Environment variables: where every secret comes from. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The webhook provider's timing (its own module reads it; declared here so the deps need no import of it). */
export interface WebhookOptions {
  /** Waits between attempts; the first attempt is immediate. */
  backoffMs: readonly number[];
  timeoutMs: number;
}

/** What a provider may act through: the server's environment, the installation's client, the webhook timing. */
export interface ProviderDeps {
  env: Env;
  gh: GitHub;
  webhook?: WebhookOptions | undefined;
}

/**
 * Everything about one provider in one object: the name the policy uses, what the policy may say
 * to it (`config` per resource, `grant` per role) and how to build it. The policy check and the
 * executor both read these from the one table in table.ts, so a provider the policy accepts is
 * always one the executor can build.
 */
export interface ProviderDefinition {
  readonly name: string;
  /** One line for people (docs, error messages). */
  readonly description: string;
  /** What docs/providers.md says of it (generated from this table by `npm run docs:providers`). */
  readonly docs: ProviderDocs;
  readonly config: TSchema;
  readonly grant: TSchema;
  create(deps: ProviderDeps): Provider;
}

/**
 * What a provider's tests run against: the real server software, real local programs (a command
 * provider's scripts), a faithful fake of a service that cannot be reached, or recorded API shapes.
 */
export type VerifiedKind = "real server" | "local scripts" | "fake" | "mocked API";

/**
 * A provider's row in docs/providers.md: one object literal per provider, written next to its code
 * so the table cannot drift from what the module does.
 */
export interface ProviderDocs {
  /** What apply changes at the target, and what revoke undoes. */
  readonly changes: string;
  /** What ends by itself at the target when the window closes, even while jit-access is down ("nothing: …" when revoking is all). */
  readonly expiresAtTarget: string;
  /** How the tests check it: against the real server software, a faithful fake, or recorded API shapes. */
  readonly verifiedAgainst: { readonly kind: VerifiedKind; readonly how: string };
  /** Its own page under docs/, when it has one (such as "providers/kubernetes.md"). */
  readonly page?: string;
}

/**
 * A provider failure whose message is safe to show on a PR: it names no secret, host, port, user,
 * database or URL (see `shownSafe`). `detail`, when present, says more for the app's log only
 * (secrets still removed, but the host and user kept, since that is what an operator needs).
 */
export class ProviderError extends Error {
  readonly detail: string | undefined;
  constructor(message: string, readonly retryable: boolean, detail?: string) {
    super(message);
    this.name = "ProviderError";
    this.detail = detail;
  }
}

/**
 * What a connection failure was, in words that name no endpoint; undefined when it was not one.
 * Node's messages ("connect ECONNREFUSED 10.0.0.5:5432", "getaddrinfo ENOTFOUND db.internal")
 * name the address, and a resolved address is nowhere in the URL to redact: so the words shown
 * come from the error's code, never from its message. fetch wraps the socket error in `cause`,
 * and a host with several addresses fails with an AggregateError whose parts carry the code.
 */
export function connectionTrouble(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  for (let e = error; e && typeof e === "object" && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const { code, name, errors } = e as { code?: unknown; name?: unknown; errors?: unknown };
    if (name === "TimeoutError") return "timed out";
    const words = typeof code === "string" ? CONNECTION_CODES[code] ?? (/^(ERR_TLS|CERT_|ERR_SSL)|CERT|SELF_SIGNED/.test(code) ? "TLS failed" : undefined) : undefined;
    if (words) return words;
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = connectionTrouble(errors[0]);
      if (inner) return inner;
    }
  }
  return undefined;
}

const CONNECTION_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name not found",
  ETIMEDOUT: "timed out",
  ECONNRESET: "connection lost",
  EPIPE: "connection lost",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNABORTED: "connection lost",
  UND_ERR_CONNECT_TIMEOUT: "timed out",
  UND_ERR_SOCKET: "connection lost",
};

/** The well-known port a URL without one uses: a message may show it although the URL does not. */
const DEFAULT_PORTS: Readonly<Record<string, string>> = { "postgres:": "5432", "postgresql:": "5432", "http:": "80", "https:": "443", "ldap:": "389", "ldaps:": "636" };

/**
 * Everything a shown message must not contain, from the values of the environment variables a
 * target uses: each value itself and, for a URL, its host (with and without brackets), port (or
 * the scheme's default), user, password, database or path, and query values — each in its raw,
 * URL-decoded and URL-encoded form.
 */
export function endpointSecrets(values: readonly (string | undefined)[]): string[] {
  const parts: string[] = [];
  for (const value of values) {
    if (!value) continue;
    parts.push(value);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      continue;
    }
    parts.push(url.href, url.origin === "null" ? "" : url.origin, url.host, url.hostname, url.hostname.replace(/^\[|\]$/g, ""), url.port || DEFAULT_PORTS[url.protocol] || "");
    parts.push(url.username, url.password, url.pathname.length > 1 ? url.pathname : "", url.pathname.slice(1), ...url.searchParams.values());
  }
  const forms = new Set<string>();
  for (const part of parts) {
    if (!part) continue;
    for (const form of [part, safeDecode(part), encodeURIComponent(part)]) if (form) forms.add(form);
  }
  return [...forms];
}

/**
 * A message fit for a PR: every endpoint secret removed (longest first, so a URL goes whole
 * before its parts), and any IPv4 address too (a host name resolves to addresses the URL does not
 * contain). A short value (a port, a 3-letter user) is removed only as a whole word, so that
 * "jit" does not eat into "jit_admin" while "jit" alone still goes.
 */
export function shownSafe(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.split(secret).join("[redacted]");
    else out = out.replace(new RegExp(`(?<![A-Za-z0-9_-])${escapeRegExp(secret)}(?![A-Za-z0-9_-])`, "g"), "[redacted]");
  }
  return out.replace(/(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])/g, "[redacted]");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Removes every secret value (and its URL-decoded form) from a message before it is shown or logged. */
export function redact(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    for (const form of new Set([secret, safeDecode(secret)])) out = out.split(form).join("[redacted]");
  }
  return out;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Another live grant of the same person: what it gives, and what it found standing. */
export interface OtherGrant {
  target: GrantTarget;
  standing: readonly string[];
}

/**
 * Reference counting (pure): the units a grant may take away when it ends — its own, minus
 * those held before it and not through a grant (standing), minus those another live grant
 * still gives. A unit another grant recorded as standing is standing for this one too.
 */
export function unitsToRevoke(provider: Provider, target: GrantTarget, standing: readonly string[], others: readonly OtherGrant[]): string[] {
  const kept = new Set(standing);
  for (const other of sameKind(target, others)) {
    for (const unit of provider.units(other.target)) kept.add(unit);
    for (const unit of other.standing) kept.add(unit);
  }
  return provider.units(target).filter((u) => !kept.has(u));
}

/**
 * Standing access (pure), observed before a grant is applied: the units the person holds that no
 * other live grant gives — or that another grant itself found standing. Access held only through
 * an overlapping grant is not standing, so when both have ended nothing is left over.
 */
export function standingOf(provider: Provider, target: GrantTarget, held: readonly string[], others: readonly OtherGrant[]): string[] {
  const viaGrants = new Set<string>();
  const standingElsewhere = new Set<string>();
  for (const other of sameKind(target, others)) {
    for (const unit of provider.units(other.target)) viaGrants.add(unit);
    for (const unit of other.standing) standingElsewhere.add(unit);
  }
  return held.filter((u) => !viaGrants.has(u) || standingElsewhere.has(u));
}

function sameKind(target: GrantTarget, others: readonly OtherGrant[]): OtherGrant[] {
  return others.filter((o) => o.target.id !== target.id && o.target.provider === target.provider);
}

/** An environment variable's value; only the environment's own entries (a name is policy data). */
export function envValue(env: Env, name: string): string | undefined {
  return Object.hasOwn(env, name) ? env[name] : undefined;
}

/** The environment variable a config names, or a clear error (the name is shown, never a value). */
export function requiredEnv(env: Env, config: Record<string, unknown>, key: string, resource: string): string {
  const name = String((Object.hasOwn(config, key) ? config[key] : undefined) ?? "");
  const value = envValue(env, name);
  if (!value) throw new ProviderError(`${resource}: the environment variable ${name} (${key}) is not set on the jit-access server`, false);
  return value;
}
