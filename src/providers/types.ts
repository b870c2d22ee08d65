/**
 * A provider applies and revokes one grant at one kind of target (PRODUCT.md §6). Access is
 * described as *units* (one team membership, one PostgreSQL role) so that reference counting
 * is a pure set computation: revoking removes only units that were not held before the grant
 * and that no other live grant still gives.
 */
export interface GrantTarget {
  /** Stable per grant and the idempotency key: `<owner>/<repo>#<number>`. */
  id: string;
  requester: string;
  /** The requester's GitHub user id, where the record has it (logins can change hands, ids cannot). */
  requesterId?: number;
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
  /** Gives the access. Idempotent. */
  apply(target: GrantTarget): Promise<void>;
  /** Takes away exactly these units (already reduced by `unitsToRevoke`). Idempotent. */
  revoke(target: GrantTarget, units: readonly string[]): Promise<void>;
  /** One line for people: "add alice to acme/prod-admins". */
  describe(target: GrantTarget): string;
}

/** Environment variables: where every secret comes from. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A provider failure whose message is safe to show on a PR (secrets removed). */
export class ProviderError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
    this.name = "ProviderError";
  }
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
