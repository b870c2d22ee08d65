import { Type } from "@sinclair/typebox";
import pg from "pg";
import { EnvName, Login } from "../schemas/common.js";
import { connectionTrouble, endpointSecrets, ProviderError, redact, requiredEnv, shownSafe, type Env, type GrantTarget, type Provider, type ProviderDefinition } from "./types.js";

const PgIdentifier = Type.String({ minLength: 1, maxLength: 63, description: "a PostgreSQL role name (1 to 63 characters)" });

/** The provider as the table lists it. */
export const postgres = {
  name: "postgres" as const,
  description: "membership of PostgreSQL roles",
  docs: {
    changes: "`GRANT <roles> TO <login>`; revoking runs `REVOKE`",
    expiresAtTarget: "nothing: the membership stays until jit-access revokes it (open sessions keep their current privileges)",
    verifiedAgainst: { kind: "real server", how: "a real PostgreSQL server from Debian, started by the tests on a loopback port" },
    page: "providers/postgres.md",
  },
  config: Type.Object(
    {
      url_env: { ...EnvName, title: "the name of the environment variable holding the connection URL" },
      users: Type.Optional(Type.Record(Login, PgIdentifier, { description: "a mapping of GitHub logins to PostgreSQL roles" })),
    },
    { additionalProperties: false },
  ),
  grant: Type.Object(
    {
      roles: Type.Array(PgIdentifier, { minItems: 1, maxItems: 50, description: "a non-empty list of PostgreSQL roles" }),
      end_sessions: Type.Optional(Type.Boolean({ description: "true or false (true: end the login's open sessions when roles are revoked)" })),
    },
    { additionalProperties: false },
  ),
  create: ({ env }) => postgresProvider(env),
} satisfies ProviderDefinition;

/**
 * `postgres`: `GRANT <roles> TO <login>` on the server whose URL is in the environment variable
 * `config.url_env`. The login is the PostgreSQL role named like the requester, unless
 * `config.users` maps it. Identifiers are quoted by the driver (`escapeIdentifier`), so a login
 * or role name cannot inject SQL; roles the login already has are reported by `held`. With
 * `end_sessions`, a revoke that took a role away also ends the login's open sessions
 * (`pg_terminate_backend`): inherited rights go with the membership, but a session that ran
 * `SET ROLE` to a revoked role stays that role, and a running statement runs to its end.
 */
export function postgresProvider(env: Env): Provider {
  const login = (t: GrantTarget) => {
    const users = (t.config.users ?? {}) as Record<string, string>;
    const mapped = Object.entries(users).find(([k]) => k.toLowerCase() === t.requester.toLowerCase());
    return mapped ? mapped[1] : t.requester;
  };
  const roles = (t: GrantTarget) => ((t.grant.roles ?? []) as string[]).map(String);
  const unit = (t: GrantTarget, role: string) => `postgres:${String(t.config.url_env)}:${login(t)}:${role}`;

  async function withClient<T>(t: GrantTarget, what: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
    const url = requiredEnv(env, t.config, "url_env", t.resource);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, statement_timeout: 30_000 });
    client.on("error", () => {}); // a dropped connection surfaces through the query that fails
    try {
      await client.connect();
      return await work(client);
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      const { shown, retryable } = explain(error, String(t.config.url_env));
      // The log gets the driver's own words, without the URL and its password; the PR gets words
      // that name no host, port, user or database (ProviderError's message is shown on the PR).
      const detail = `${t.resource}: ${what} failed: ${redact(describeError(error), [url, passwordOf(url)])}`;
      throw new ProviderError(`${t.resource}: ${what} failed: ${shownSafe(shown, endpointSecrets([url]))}`, retryable, detail);
    } finally {
      await client.end().catch(() => {});
    }
  }

  return {
    units: (t) => roles(t).map((r) => unit(t, r)),
    async held(t) {
      return withClient(t, "reading role memberships", async (c) => {
        const { rows } = await c.query<{ rolname: string }>(
          "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.member JOIN pg_roles g ON g.oid = m.roleid WHERE u.rolname = $1",
          [login(t)],
        );
        const have = new Set(rows.map((r) => r.rolname));
        return roles(t).filter((r) => have.has(r)).map((r) => unit(t, r));
      });
    },
    async apply(t) {
      await withClient(t, "GRANT", async (c) => {
        const { rowCount } = await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [login(t)]);
        if (!rowCount) throw new ProviderError(`${t.resource}: there is no PostgreSQL role named ${login(t)} (map logins with config.users)`, false);
        await c.query("BEGIN");
        for (const role of roles(t)) await c.query(`GRANT ${c.escapeIdentifier(role)} TO ${c.escapeIdentifier(login(t))}`);
        await c.query("COMMIT");
      });
    },
    async revoke(t, units) {
      const toRevoke = roles(t).filter((r) => units.includes(unit(t, r)));
      if (toRevoke.length === 0) return;
      await withClient(t, "REVOKE", async (c) => {
        await c.query("BEGIN");
        // REVOKE of a membership that is already gone only warns: idempotent.
        for (const role of toRevoke) await c.query(`REVOKE ${c.escapeIdentifier(role)} FROM ${c.escapeIdentifier(login(t))}`);
        await c.query("COMMIT");
        // After the commit, so that a session started in between already lacks the roles.
        if (t.grant.end_sessions === true) {
          await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()", [login(t)]);
        }
      });
    },
    describe: (t) => `PostgreSQL roles ${roles(t).join(", ")} for ${login(t)} (${t.resource})${t.grant.end_sessions === true ? ", sessions ended on revoke" : ""}`,
  };
}

/**
 * What to show for a failure, and whether it is worth retrying. Connection and authentication
 * failures are described by their code alone: the driver's words for them name the host, the
 * port or the user. An SQL error (a missing role, no privilege to grant it) is about the policy's
 * own names, and its words are the clearest fix, so they are shown (still passed through
 * `shownSafe` by the caller).
 */
function explain(error: unknown, urlEnv: string): { shown: string; retryable: boolean } {
  const trouble = connectionTrouble(error);
  if (trouble) return { shown: `could not connect to the database (${trouble})`, retryable: true };
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) {
    // No SQLSTATE: the driver gave up before the server answered (a timeout, TLS, a closed socket).
    return { shown: "could not connect to the database", retryable: true };
  }
  if (code.startsWith("28")) return { shown: `authentication failed (the server refused the user or password in ${urlEnv})`, retryable: false };
  if (code === "3D000") return { shown: `the database named in ${urlEnv} does not exist`, retryable: false };
  if (code.startsWith("08")) return { shown: "could not connect to the database", retryable: true };
  if (code === "57P01" || code === "57P03") return { shown: "the database is shutting down or starting up", retryable: true };
  if (code === "53300") return { shown: "the database has too many connections", retryable: true };
  return { shown: (error as Error).message, retryable: false };
}

/** The driver's message with the network cause fetch-style errors hide in `cause` or `errors`. */
function describeError(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: unknown[] };
  const inner = Array.isArray(e.errors) ? e.errors.map((x) => (x as Error).message).join("; ") : "";
  return [e.code, e.message || inner].filter(Boolean).join(" ");
}

function passwordOf(url: string): string | undefined {
  try {
    return new URL(url).password || undefined;
  } catch {
    return undefined;
  }
}
