import { Type } from "@sinclair/typebox";
import mysql from "mysql2/promise";
import { EnvName, Login } from "../schemas/common.js";
import { accountQuery, defaultRolesQuery, defaultsAfterApply, defaultsAfterRevoke, flavourOf, rolesQuery, setDefaultRoles, type Flavour, type Query } from "./mysql-dialect.js";
import { connectionTrouble, endpointSecrets, ProviderError, redact, requiredEnv, shownSafe, type Env, type GrantTarget, type Provider, type ProviderDefinition } from "./types.js";

const RoleName = Type.String({ minLength: 1, maxLength: 32, description: "a MySQL/MariaDB role name (1 to 32 characters)" });
/** `name` or `name@host`: the host part of the account, `%` unless given. */
const Account = Type.String({
  pattern: "^[^@\\s]{1,80}(?:@[^@\\s]{1,255})?$",
  description: "a MySQL/MariaDB account: a user name, or user@host (host % unless given)",
});

/** The provider as the table lists it. */
export const mysqlDefinition = {
  name: "mysql" as const,
  description: "membership of MySQL 8 / MariaDB roles",
  docs: {
    changes: "`GRANT <role> TO <user>` (and a default role when the account has none); revoking runs `REVOKE` (and clears that default)",
    expiresAtTarget: "nothing: the role stays until jit-access revokes it (with `end_sessions`, the person's open connections are ended then)",
    verifiedAgainst: { kind: "real server", how: "a real MariaDB 10.11 server from Debian, started by the tests on a loopback port (MySQL 8's statements are checked as text only)" },
    page: "providers/mysql.md",
  },
  config: Type.Object(
    {
      url_env: { ...EnvName, title: "the name of the environment variable holding the connection URL (mysql://user:password@host:port/)" },
      users: Type.Optional(Type.Record(Login, Account, { description: "a mapping of GitHub logins to MySQL accounts" })),
      host: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: "the host part of the requester's account (default %)" })),
    },
    { additionalProperties: false },
  ),
  grant: Type.Object(
    {
      role: RoleName,
      create_role: Type.Optional(Type.Boolean({ description: "true or false (true: CREATE ROLE IF NOT EXISTS before granting it)" })),
      end_sessions: Type.Optional(Type.Boolean({ description: "true or false (true: end the person's open connections when the role is revoked)" })),
    },
    { additionalProperties: false },
  ),
  create: ({ env }) => mysqlProvider(env),
} satisfies ProviderDefinition;

/** The requester's account as user and host. */
function accountOf(t: GrantTarget): { user: string; host: string } {
  const users = (t.config.users ?? {}) as Record<string, string>;
  const mapped = Object.entries(users).find(([k]) => k.toLowerCase() === t.requester.toLowerCase())?.[1] ?? t.requester;
  const at = mapped.lastIndexOf("@");
  const fallbackHost = typeof t.config.host === "string" ? t.config.host : "%";
  return at > 0 ? { user: mapped.slice(0, at), host: mapped.slice(at + 1) } : { user: mapped, host: fallbackHost };
}

/** MariaDB's "Cannot revoke role": the membership is already gone (a replayed revoke). */
const ER_CANNOT_REVOKE_ROLE = 1962;
/** The connection ended between listing it and killing it. */
const ER_NO_SUCH_THREAD = 1094;

/**
 * `mysql`: `GRANT '<role>' TO '<user>'@'<host>'` plus a default role on the server whose URL is in
 * the environment variable `config.url_env`, and `REVOKE` when the grant ends. The account is the
 * one named like the requester unless `config.users` maps it. Names are written as string literals
 * by the driver's `escape`, so no login or role name can inject SQL. With `end_sessions`, a revoke
 * that took the role away also ends the account's open connections: neither MariaDB nor MySQL
 * takes a revoked role from a session that has it active.
 */
export function mysqlProvider(env: Env): Provider {
  const role = (t: GrantTarget) => String(t.grant.role);
  const unit = (t: GrantTarget) => {
    const { user, host } = accountOf(t);
    return `mysql:${String(t.config.url_env)}:${user}@${host}:${role(t)}`;
  };

  async function withConnection<T>(t: GrantTarget, what: string, work: (c: Session) => Promise<T>): Promise<T> {
    const url = requiredEnv(env, t.config, "url_env", t.resource);
    let connection: mysql.Connection | undefined;
    try {
      connection = await mysql.createConnection({ uri: url, connectTimeout: 10_000, multipleStatements: false });
      const [rows] = await connection.query<mysql.RowDataPacket[]>("SELECT VERSION() AS version");
      const flavour = flavourOf(String(rows[0]?.version ?? ""));
      if (typeof flavour !== "string") throw new ProviderError(`${t.resource}: ${what} failed: ${flavour.unsupported}`, false);
      return await work(session(connection, flavour));
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      const { shown, retryable } = explain(error, String(t.config.url_env), connection === undefined);
      const detail = `${t.resource}: ${what} failed: ${redact(describeError(error), [url, passwordOf(url)])}`;
      throw new ProviderError(`${t.resource}: ${what} failed: ${shownSafe(shown, endpointSecrets([url]))}`, retryable, detail);
    } finally {
      await connection?.end().catch(() => {});
    }
  }

  async function holds(s: Session, t: GrantTarget): Promise<boolean> {
    const { user, host } = accountOf(t);
    return (await s.column(rolesQuery(s.flavour, user, host))).includes(role(t));
  }

  return {
    units: (t) => [unit(t)],
    async held(t) {
      return withConnection(t, "reading role memberships", async (s) => ((await holds(s, t)) ? [unit(t)] : []));
    },
    async apply(t) {
      await withConnection(t, "GRANT", async (s) => {
        const { user, host } = accountOf(t);
        if ((await s.column(accountQuery(user, host))).length === 0) {
          throw new ProviderError(`${t.resource}: there is no account ${user}@${host} (map logins with config.users)`, false);
        }
        if (t.grant.create_role === true) await s.run(`CREATE ROLE IF NOT EXISTS ${s.quote(role(t))}`);
        // GRANT of a role the account already has is a no-op in both flavours: idempotent.
        await s.run(`GRANT ${s.quote(role(t))} TO ${s.account(user, host)}`);
        const next = defaultsAfterApply(s.flavour, await s.column(defaultRolesQuery(s.flavour, user, host)), role(t));
        if (next) await s.run(setDefaultRoles(s.flavour, next, s.account(user, host), s.quote));
      });
    },
    async revoke(t, units) {
      if (!units.includes(unit(t))) return;
      await withConnection(t, "REVOKE", async (s) => {
        const { user, host } = accountOf(t);
        // The default role first: MariaDB keeps it set after REVOKE, and MySQL 8 refuses a default that is not granted.
        const next = defaultsAfterRevoke(await s.column(defaultRolesQuery(s.flavour, user, host)), role(t));
        if (next) await s.run(setDefaultRoles(s.flavour, next, s.account(user, host), s.quote));
        if (await holds(s, t)) await s.run(`REVOKE ${s.quote(role(t))} FROM ${s.account(user, host)}`, [ER_CANNOT_REVOKE_ROLE]);
        if (t.grant.end_sessions === true) await endSessions(s, user, t);
      });
    },
    describe: (t) => {
      const { user, host } = accountOf(t);
      return `MySQL role ${role(t)} for ${user}@${host} (${t.resource})${t.grant.end_sessions === true ? ", sessions ended on revoke" : ""}`;
    },
  };
}

/**
 * Ends every connection of the user (any host: PROCESSLIST shows the user name, not the account's
 * host pattern), except our own. Runs after the REVOKE, so a reconnect gets no role.
 */
async function endSessions(s: Session, user: string, t: GrantTarget): Promise<void> {
  // Without PROCESS the list shows only our own connection: that would end nothing, silently.
  const privileges = await s.column({
    sql: "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = CONCAT(QUOTE(SUBSTRING_INDEX(CURRENT_USER(), '@', 1)), '@', QUOTE(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)))",
    params: [],
  });
  if (!privileges.some((p) => p === "PROCESS" || p === "SUPER")) {
    throw new ProviderError(`${t.resource}: the role was revoked, but end_sessions needs the PROCESS privilege for the account in ${String(t.config.url_env)} to see the person's connections`, false);
  }
  const ids = await s.column({ sql: "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()", params: [user] });
  for (const id of ids) {
    const n = Number(id);
    if (Number.isSafeInteger(n)) await s.run(`KILL CONNECTION ${n}`, [ER_NO_SUCH_THREAD]);
  }
}

interface Session {
  flavour: Flavour;
  quote(text: string): string;
  account(user: string, host: string): string;
  /** The first column of every row, as text. */
  column(query: Query): Promise<string[]>;
  run(sql: string, tolerated?: readonly number[]): Promise<void>;
}

function session(c: mysql.Connection, flavour: Flavour): Session {
  const quote = (text: string) => c.escape(text);
  return {
    flavour,
    quote,
    account: (user, host) => `${quote(user)}@${quote(host)}`,
    async column({ sql, params }) {
      const [rows] = await c.query<mysql.RowDataPacket[]>({ sql, timeout: 30_000 }, params);
      return rows.map((r) => String(Object.values(r)[0]));
    },
    async run(sql, tolerated = []) {
      try {
        await c.query({ sql, timeout: 30_000 });
      } catch (error) {
        if (!tolerated.includes((error as { errno?: number }).errno ?? -1)) throw error;
      }
    },
  };
}

/** Privilege errors: their words name the app's account and host, so they get ours. */
const PRIVILEGE_ERRORS = new Set([1044, 1045, 1095, 1142, 1143, 1227, 1698]);

/**
 * What to show for a failure, and whether it is worth retrying. Connection failures are described
 * by their code alone (the driver's words name the host, port or user); a refused login by the
 * variable that holds it; an SQL error about the policy's own names (an unknown role) by the
 * server's words, which the caller still passes through `shownSafe`.
 */
function explain(error: unknown, urlEnv: string, connecting: boolean): { shown: string; retryable: boolean } {
  const trouble = connectionTrouble(error);
  if (trouble) return { shown: `could not connect to the database (${trouble})`, retryable: true };
  const { errno, fatal, sqlMessage } = error as { errno?: unknown; fatal?: unknown; sqlMessage?: unknown };
  if (typeof errno !== "number") return { shown: "could not connect to the database", retryable: true };
  if (connecting && (errno === 1045 || errno === 1698)) return { shown: `authentication failed (the server refused the user or password in ${urlEnv})`, retryable: false };
  if (connecting && errno === 1049) return { shown: `the database named in ${urlEnv} does not exist`, retryable: false };
  if (PRIVILEGE_ERRORS.has(errno)) return { shown: `the account in ${urlEnv} lacks a privilege this needs (error ${errno}; see the mysql provider's documentation)`, retryable: false };
  if (errno === 1040 || errno === 1203) return { shown: "the database has too many connections", retryable: true };
  if (fatal === true || connecting) return { shown: "could not connect to the database", retryable: true };
  return { shown: typeof sqlMessage === "string" ? sqlMessage : "the database refused the statement", retryable: false };
}

function describeError(error: unknown): string {
  const e = error as { message?: string; code?: string; errno?: number };
  return [e.code, e.errno, e.message].filter((x) => x !== undefined && x !== "").join(" ");
}

function passwordOf(url: string): string | undefined {
  try {
    return new URL(url).password || undefined;
  } catch {
    return undefined;
  }
}
