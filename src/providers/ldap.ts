import { Type } from "@sinclair/typebox";
import { Attribute, Change, Client, EqualityFilter } from "ldapts";
import { EnvName, Login } from "../schemas/common.js";
import { connectionTrouble, endpointSecrets, ProviderError, redact, requiredEnv, shownSafe, type Env, type GrantTarget, type Provider, type ProviderDefinition } from "./types.js";

const Dn = Type.String({ minLength: 3, maxLength: 1024, pattern: "^[^\\r\\n\\0]*=[^\\r\\n\\0]*$", description: "a distinguished name (cn=ops,ou=groups,dc=example,dc=org)" });
const DnTemplate = Type.String({
  minLength: 10,
  maxLength: 1024,
  pattern: "^[^\\r\\n\\0{}]*=[^\\r\\n\\0{}]*\\{login\\}[^\\r\\n\\0{}]*$",
  description: "a DN template with {login} once (uid={login},ou=people,dc=example,dc=org)",
});

/** The provider as the table lists it. */
export const ldap = {
  name: "ldap" as const,
  description: "membership of LDAP groups (groupOfNames or Active Directory `member`)",
  docs: {
    changes: "adds the requester's DN to each group's `member`; revoking removes it",
    expiresAtTarget: "nothing: the membership stays until jit-access revokes it",
    verifiedAgainst: { kind: "real server", how: "a real slapd (OpenLDAP 2.5) from Debian, started by the tests on a loopback port" },
    page: "providers/ldap.md",
  },
  config: Type.Object(
    {
      url_env: { ...EnvName, title: "the name of the environment variable holding the ldap:// or ldaps:// URL" },
      bind_dn: Dn,
      bind_password_env: { ...EnvName, title: "the name of the environment variable holding the bind DN's password" },
      user_dn: DnTemplate,
      users: Type.Optional(Type.Record(Login, Dn, { description: "a mapping of GitHub logins to user DNs (else user_dn)" })),
    },
    { additionalProperties: false },
  ),
  grant: Type.Object(
    { groups: Type.Array(Dn, { minItems: 1, maxItems: 50, description: "a non-empty list of group DNs" }) },
    { additionalProperties: false },
  ),
  create: ({ env }) => ldapProvider(env),
} satisfies ProviderDefinition;

/** RFC 4514 §2.4: a value inside a DN, escaped so that a login can never add an RDN or end the DN. */
export function escapeDnValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/\0/g, "\\00")
    .replace(/^([ #])/, "\\$1")
    .replace(/ $/, "\\ ");
}

/** LDAP result codes the provider reads (RFC 4511 §4.1.9). */
const CODE = { noSuchAttribute: 16, attributeOrValueExists: 20, noSuchObject: 32, invalidDnSyntax: 34, invalidCredentials: 49, insufficientAccess: 50, busy: 51, unavailable: 52, objectClassViolation: 65 } as const;

/**
 * `ldap`: the requester's DN in the `member` attribute of each of the role's groups, on the
 * directory at the URL in `config.url_env`, bound as `config.bind_dn` with the password in
 * `config.bind_password_env`. The DN is `config.users[login]` or `config.user_dn` with `{login}`
 * replaced by the login, escaped as a DN value. `held` asks the server (a base search with
 * `(member=<dn>)`, matched by the server's DN rules, not by string comparison).
 *
 * Idempotent: adding a value that is there (attributeOrValueExists) and deleting one that is not
 * (noSuchAttribute) both count as done. A `groupOfNames` must keep one member: OpenLDAP refuses to
 * delete the last one (objectClassViolation), and the revoke fails and is retried until the group
 * has another member (docs/providers/ldap.md: keep a placeholder member).
 */
export function ldapProvider(env: Env): Provider {
  const userDn = (t: GrantTarget) => {
    const users = (t.config.users ?? {}) as Record<string, string>;
    const mapped = Object.entries(users).find(([login]) => login.toLowerCase() === t.requester.toLowerCase());
    return mapped ? mapped[1] : String(t.config.user_dn).replace("{login}", () => escapeDnValue(t.requester));
  };
  const groups = (t: GrantTarget) => ((t.grant.groups ?? []) as string[]).map(String);
  const unit = (t: GrantTarget, group: string) => `ldap:${String(t.config.url_env)}:${group}:${userDn(t)}`.toLowerCase();

  async function withClient<T>(t: GrantTarget, what: string, work: (c: Client) => Promise<T>): Promise<T> {
    const url = requiredEnv(env, t.config, "url_env", t.resource);
    const password = requiredEnv(env, t.config, "bind_password_env", t.resource);
    if (!/^ldaps?:\/\//i.test(url)) throw new ProviderError(`${t.resource}: the environment variable ${String(t.config.url_env)} (url_env) must hold an ldap:// or ldaps:// URL`, false);
    const client = new Client({ url, timeout: 30_000, connectTimeout: 10_000 });
    try {
      await client.bind(String(t.config.bind_dn), password);
      return await work(client);
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      const { shown, retryable } = explain(error, t);
      const detail = `${t.resource}: ${what} failed: ${redact(`${String((error as { code?: unknown }).code ?? "")} ${(error as Error).message}`, [url, password])}`;
      throw new ProviderError(`${t.resource}: ${what} failed: ${shownSafe(shown, endpointSecrets([url, password]))}`, retryable, detail);
    } finally {
      await client.unbind().catch(() => {});
    }
  }

  /** Whether the user is a member of the group now, as the server matches DNs. */
  async function isMember(c: Client, t: GrantTarget, group: string): Promise<boolean> {
    const { searchEntries } = await c.search(group, { scope: "base", filter: new EqualityFilter({ attribute: "member", value: userDn(t) }), attributes: ["1.1"] });
    return searchEntries.length > 0;
  }

  const member = (t: GrantTarget, operation: "add" | "delete") => new Change({ operation, modification: new Attribute({ type: "member", values: [userDn(t)] }) });

  return {
    units: (t) => groups(t).map((g) => unit(t, g)),
    async held(t) {
      return withClient(t, "reading group memberships", async (c) => {
        const held: string[] = [];
        for (const group of groups(t)) if (await isMember(c, t, group)) held.push(unit(t, group));
        return held;
      });
    },
    async apply(t) {
      await withClient(t, "adding to the groups", async (c) => {
        for (const group of groups(t)) {
          try {
            await c.modify(group, member(t, "add"));
          } catch (error) {
            // Already a member: what was wanted.
            if ((error as { code?: unknown }).code !== CODE.attributeOrValueExists) throw error;
          }
        }
      });
    },
    async revoke(t, units) {
      const toRemove = groups(t).filter((g) => units.includes(unit(t, g)));
      if (toRemove.length === 0) return;
      await withClient(t, "removing from the groups", async (c) => {
        for (const group of toRemove) {
          try {
            await c.modify(group, member(t, "delete"));
          } catch (error) {
            const code = (error as { code?: unknown }).code;
            if (code === CODE.noSuchAttribute) continue; // not a member (any more): what was wanted
            if (code === CODE.objectClassViolation) {
              throw new ProviderError(
                `${t.resource}: ${userDn(t)} is the last member of ${group}, and a groupOfNames must keep one: the directory refused to remove them (objectClassViolation). Add a placeholder member to the group; the revoke is retried`,
                true,
              );
            }
            throw error;
          }
        }
      });
    },
    describe: (t) => `membership of ${userDn(t)} in the LDAP group${groups(t).length > 1 ? "s" : ""} ${groups(t).join("; ")} (${t.resource})`,
  };
}

/**
 * What to show for a failure. Connection failures by their code alone (the socket's words name the
 * address); a bad bind by the names of the settings to fix; a directory's answer about the policy's
 * own DNs (no such group, no right to change it) in words that name those DNs.
 */
function explain(error: unknown, t: GrantTarget): { shown: string; retryable: boolean } {
  const trouble = connectionTrouble(error);
  if (trouble) return { shown: `could not connect to the directory (${trouble})`, retryable: true };
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "number") return { shown: "could not reach the directory", retryable: true };
  switch (code) {
    case CODE.invalidCredentials:
      return { shown: `the directory refused the bind (check bind_dn and ${String(t.config.bind_password_env)})`, retryable: false };
    case CODE.noSuchObject:
      return { shown: `a group of the role does not exist (${((t.grant.groups ?? []) as string[]).join("; ")})`, retryable: false };
    case CODE.insufficientAccess:
      return { shown: "the bind DN may not change these groups (insufficientAccessRights)", retryable: false };
    case CODE.invalidDnSyntax:
      return { shown: "a DN of the policy is not valid (invalidDNSyntax)", retryable: false };
    case CODE.busy:
    case CODE.unavailable:
      return { shown: "the directory is busy or unavailable", retryable: true };
    default:
      return { shown: `the directory answered with LDAP result code ${code}`, retryable: false };
  }
}
