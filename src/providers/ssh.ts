import { Type } from "@sinclair/typebox";
import type { GitHub } from "../github/client.js";
import { isNotFound } from "../github/client.js";
import { EnvName, Login } from "../schemas/common.js";
import { parseCaKey, parsePublicKey, signUserCertificate, SSH_EXTENSIONS, SshKeyError, type SshExtension } from "./ssh-cert.js";
import { ProviderError, requiredEnv, type Env, type GrantTarget, type Provider, type ProviderDefinition } from "./types.js";

const Principal = Type.String({
  pattern: "^(?:\\{login\\}|[A-Za-z0-9_][A-Za-z0-9._@-]{0,63})$",
  description: "a principal: a user name sshd maps to an account (letters, digits, '.', '_', '@', '-'), or {login} for the requester's GitHub login",
});

const PublicKeyLine = Type.String({
  pattern: "^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}( [^\\r\\n]*)?$",
  maxLength: 16_384,
  description: "an OpenSSH public key line (ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa)",
});

/** The request PR's number, from its URL (`…/pull/7`), for the command that fetches the certificate. */
function prNumber(t: GrantTarget): string {
  return /\/pull\/(\d+)$/.exec(t.pullRequest)?.[1] ?? "<pr>";
}

/** At most this many of a person's keys are certified: each is one certificate in the reply. */
export const MAX_KEYS = 10;

/** The provider as the table lists it. */
export const ssh = {
  name: "ssh" as const,
  description: "an OpenSSH user certificate, valid exactly for the window",
  docs: {
    changes: "signs an OpenSSH user certificate for the requester's public keys (from the policy or their GitHub keys), valid exactly for the window, handed over as a PR comment; revoking changes nothing at the target",
    expiresAtTarget: "everything: sshd refuses the certificate after its valid-before time, even while jit-access is down (an early revoke needs a KRL by serial)",
    verifiedAgainst: { kind: "real server", how: "a real sshd from Debian with TrustedUserCAKeys on a loopback port, logged into with OpenSSH's client before, during and after the window" },
    page: "providers/ssh.md",
  },
  config: Type.Object(
    {
      ca_key_env: { ...EnvName, title: "the name of the environment variable holding the CA's private key (Ed25519 or ECDSA)" },
      public_keys: Type.Optional(
        Type.Record(Login, Type.Array(PublicKeyLine, { minItems: 1, maxItems: MAX_KEYS }), {
          description: "a mapping of GitHub logins to the public keys to certify (else their keys on GitHub)",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  grant: Type.Object(
    {
      principals: Type.Array(Principal, { minItems: 1, maxItems: 32, description: "a non-empty list of principals" }),
      extensions: Type.Optional(
        Type.Array(Type.Union(SSH_EXTENSIONS.map((e) => Type.Literal(e))), { maxItems: SSH_EXTENSIONS.length, uniqueItems: true, description: "certificate extensions (default: permit-pty only)" }),
      ),
    },
    { additionalProperties: false },
  ),
  create: ({ env, gh }) => sshProvider(env, gh),
} satisfies ProviderDefinition;

/**
 * `ssh`: an OpenSSH user certificate for the requester's public key(s), signed with the CA key in
 * the environment variable `config.ca_key_env`, valid from the window's start to its end exactly
 * (`valid after` = startsAt, `valid before` = expiresAt), for the role's principals. Hosts that
 * trust the CA (`TrustedUserCAKeys`) refuse it after the window by themselves, even while
 * jit-access is down: nothing at the target is changed, so there is nothing to undo.
 *
 * The keys come from `config.public_keys` (reviewed in the policy) or else from the requester's
 * public keys on GitHub. Only public keys pass through the app; the certificates are public too,
 * and are handed over as a reply on the request PR (`jit ssh-cert` fetches them).
 *
 * Units: one per grant, and `held` is always empty. A certificate is not a state of the target
 * that another grant or standing access could share; revoking has nothing to take away, and an
 * early revoke does not shorten a certificate already handed over (docs/providers/ssh.md: KRL).
 */
export function sshProvider(env: Env, gh: GitHub): Provider {
  const principals = (t: GrantTarget) => [...new Set(((t.grant.principals ?? []) as string[]).map((p) => (p === "{login}" ? t.requester : String(p))))];
  const extensions = (t: GrantTarget) => ((t.grant.extensions ?? ["permit-pty"]) as SshExtension[]);

  /** The public keys to certify: the policy's for this person, else theirs on GitHub. */
  async function publicKeys(t: GrantTarget): Promise<string[]> {
    const configured = (t.config.public_keys ?? {}) as Record<string, string[]>;
    const mapped = Object.entries(configured).find(([login]) => login.toLowerCase() === t.requester.toLowerCase());
    if (mapped) return mapped[1];
    let keys: { key: string }[];
    try {
      ({ data: keys } = await gh.rest.users.listPublicKeysForUser({ username: t.requester, per_page: 100 }));
    } catch (error) {
      if (isNotFound(error)) throw new ProviderError(`${t.resource}: there is no GitHub account named ${t.requester} to read public keys from`, false);
      const status = (error as { status?: number }).status;
      throw new ProviderError(`${t.resource}: reading the public keys of ${t.requester} on GitHub failed${status ? ` (HTTP ${status})` : ""}`, status === undefined || status >= 500 || status === 429);
    }
    // Security keys (sk-…) and DSA cannot be certified here: skipped, not fatal.
    return keys.map((k) => k.key).filter((k) => parsePublicKey(k) !== undefined).slice(0, MAX_KEYS);
  }

  return {
    units: (t) => [`ssh:${t.resource}:${t.id}`],
    held: async () => [],
    async apply(t) {
      const caText = requiredEnv(env, t.config, "ca_key_env", t.resource);
      const validAfter = new Date(t.startsAt);
      const validBefore = new Date(t.expiresAt);
      if (!(validBefore > validAfter)) throw new ProviderError(`${t.resource}: the window ends before it starts`, false);
      let ca;
      try {
        ca = parseCaKey(caText);
      } catch (error) {
        throw new ProviderError(`${t.resource}: ${String(t.config.ca_key_env)} (ca_key_env): ${(error as Error).message}`, false);
      }
      const keys = await publicKeys(t);
      if (keys.length === 0) {
        throw new ProviderError(`${t.resource}: ${t.requester} has no Ed25519, ECDSA or RSA public key on GitHub (add one at https://github.com/settings/keys, or list it under public_keys in the policy)`, false);
      }
      const keyId = `jit-access ${t.id} ${t.requester}`;
      const certs: string[] = [];
      for (const [i, publicKey] of keys.entries()) {
        try {
          certs.push(signUserCertificate(ca, { publicKey, principals: principals(t), keyId, validAfter, validBefore, extensions: extensions(t) }));
        } catch (error) {
          if (error instanceof SshKeyError) throw new ProviderError(`${t.resource}: public key ${i + 1} of ${t.requester}: ${error.message}`, false);
          throw error;
        }
      }
      return {
        handover: {
          summary: `your SSH certificate${certs.length > 1 ? `s (one per public key)` : ""} for ${principals(t).join(", ")}, valid from ${t.startsAt} until ${t.expiresAt}. Save it next to your key as <key>-cert.pub, or run: jit ssh-cert ${prNumber(t)} --key ~/.ssh/id_ed25519.pub --out ~/.ssh/id_ed25519-cert.pub`,
          content: certs.join("\n"),
        },
      };
    },
    // Nothing to take away at the target: the certificate expires there by itself.
    revoke: async () => {},
    describe: (t) => `an SSH certificate for ${principals(t).join(", ")} (${t.resource}), signed for ${t.requester}; hosts refuse it after the window`,
  };
}
