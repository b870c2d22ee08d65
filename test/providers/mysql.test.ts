import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer } from "node:net";
import mysql from "mysql2/promise";
import { defaultsAfterApply, defaultsAfterRevoke, flavourOf, setDefaultRoles } from "../../src/providers/mysql-dialect.js";
import { mysqlProvider } from "../../src/providers/mysql.js";
import { ProviderError, standingOf, unitsToRevoke, type GrantTarget } from "../../src/providers/types.js";
import { mariaDbAvailability, startMariaDb, type TestMariaDb } from "../helpers/mariadb.js";

const availability = mariaDbAvailability();
if ("missing" in availability) {
  console.warn(`\n${"!".repeat(80)}\n!! mysql provider tests NOT RUN: ${availability.missing}\n${"!".repeat(80)}\n`);
}
const describeDb = "bins" in availability ? describe : describe.skip;

let server: TestMariaDb;
let admin: mysql.Connection;

async function rolesOf(user: string, host = "%"): Promise<string[]> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>("SELECT Role FROM mysql.roles_mapping WHERE User = ? AND Host = ? ORDER BY Role", [user, host]);
  return rows.map((r) => String(r.Role));
}

async function defaultRoleOf(user: string, host = "%"): Promise<string> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>("SELECT default_role FROM mysql.user WHERE User = ? AND Host = ?", [user, host]);
  return String(rows[0]?.default_role ?? "");
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

const target = (id: string, role: string, extra: Partial<GrantTarget> = {}): GrantTarget => ({
  id,
  requester: "alice",
  resource: "orders-db",
  role: "read-only",
  provider: "mysql",
  config: { url_env: "JIT_ORDERS_DB_URL" },
  grant: { role },
  startsAt: "2026-11-29T13:00:00Z",
  expiresAt: "2026-11-29T15:00:00Z",
  pullRequest: "https://github.com/acme/access/pull/7",
  ...extra,
});

describe("the mysql dialects (pure: the MySQL 8 side has no server in Debian to test against)", () => {
  it("tells MariaDB from MySQL 8 and refuses servers without roles", () => {
    expect(flavourOf("10.11.19-MariaDB-0+deb12u1")).toBe("mariadb");
    expect(flavourOf("11.4.2-MariaDB")).toBe("mariadb");
    expect(flavourOf("8.0.36")).toBe("mysql8");
    expect(flavourOf("8.4.0-commercial")).toBe("mysql8");
    expect(flavourOf("5.7.44-log")).toEqual({ unsupported: "MySQL 5 has no roles (8.0 or later is needed)" });
    expect(flavourOf("10.0.38-MariaDB")).toEqual({ unsupported: "MariaDB 10.0 has no default roles (10.1 or later is needed)" });
  });

  it("never replaces MariaDB's single default role, and adds to MySQL 8's list", () => {
    expect(defaultsAfterApply("mariadb", [], "r")).toEqual(["r"]);
    expect(defaultsAfterApply("mariadb", ["standing"], "r")).toBeUndefined();
    expect(defaultsAfterApply("mariadb", ["r"], "r")).toBeUndefined();
    expect(defaultsAfterApply("mysql8", ["standing"], "r")).toEqual(["standing", "r"]);
    expect(defaultsAfterRevoke(["standing", "r"], "r")).toEqual(["standing"]);
    expect(defaultsAfterRevoke(["standing"], "r")).toBeUndefined();
  });

  it("writes SET DEFAULT ROLE in each flavour's words", () => {
    const q = (s: string) => `'${s}'`;
    expect(setDefaultRoles("mariadb", ["r"], "'u'@'%'", q)).toBe("SET DEFAULT ROLE 'r' FOR 'u'@'%'");
    expect(setDefaultRoles("mariadb", [], "'u'@'%'", q)).toBe("SET DEFAULT ROLE NONE FOR 'u'@'%'");
    expect(setDefaultRoles("mysql8", ["a", "b"], "'u'@'%'", q)).toBe("SET DEFAULT ROLE 'a', 'b' TO 'u'@'%'");
  });
});

describeDb("the mysql provider, against a real MariaDB server", () => {
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startMariaDb((availability as { bins: Parameters<typeof startMariaDb>[0] }).bins);
    admin = await mysql.createConnection({ uri: server.url(), multipleStatements: true });
    await admin.query(`
      CREATE ROLE analytics_read; CREATE ROLE app_write; CREATE ROLE \`odd'role\`;
      CREATE USER alice@'%'; CREATE USER alice_ro@'10.0.%'; CREATE USER bob@'%';
      CREATE USER jit@'%' IDENTIFIED BY 's3cret-pw';
      GRANT analytics_read TO jit@'%' WITH ADMIN OPTION; GRANT app_write TO jit@'%' WITH ADMIN OPTION;
      GRANT \`odd'role\` TO jit@'%' WITH ADMIN OPTION;
      GRANT CREATE USER, PROCESS, CONNECTION ADMIN ON *.* TO jit@'%';
      GRANT SELECT, UPDATE ON mysql.* TO jit@'%';
      GRANT SELECT ON *.* TO analytics_read;`);
    // The app connects as a dedicated account with the privileges the docs list, not as root.
    env = { JIT_ORDERS_DB_URL: server.url("jit", "s3cret-pw") };
  }, 60_000);
  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  });

  it("applies with GRANT and a default role, revokes with REVOKE, and replays change nothing", async () => {
    const p = mysqlProvider(env);
    const t = target("acme/access#1", "analytics_read");
    expect(await p.held(t)).toEqual([]);
    await p.apply(t);
    expect(await rolesOf("alice")).toEqual(["analytics_read"]);
    expect(await defaultRoleOf("alice")).toBe("analytics_read");
    await p.apply(t); // a replayed apply: the same state
    expect(await rolesOf("alice")).toEqual(["analytics_read"]);
    expect(await p.held(t)).toEqual(["mysql:JIT_ORDERS_DB_URL:alice@%:analytics_read"]);
    await p.revoke(t, unitsToRevoke(p, t, [], []));
    expect(await rolesOf("alice")).toEqual([]);
    expect(await defaultRoleOf("alice")).toBe("");
    await p.revoke(t, unitsToRevoke(p, t, [], [])); // a replayed revoke: nothing left, no error
    expect(await rolesOf("alice")).toEqual([]);
  });

  it("gives the person a session that has the role at once (the default role), and none after revoke", async () => {
    const p = mysqlProvider(env);
    const t = target("acme/access#2", "analytics_read");
    await p.apply(t);
    const during = await mysql.createConnection({ uri: server.url("alice") });
    const [rows] = await during.query<mysql.RowDataPacket[]>("SELECT CURRENT_ROLE() AS r");
    expect(rows[0]?.r).toBe("analytics_read");
    await during.end();
    await p.revoke(t, unitsToRevoke(p, t, [], []));
    const after = await mysql.createConnection({ uri: server.url("alice") });
    const [none] = await after.query<mysql.RowDataPacket[]>("SELECT CURRENT_ROLE() AS r");
    expect(none[0]?.r).toBeNull();
    await expect(after.query("SET ROLE analytics_read")).rejects.toThrow(/analytics_read/);
    await after.end();
  });

  it("keeps standing access: a role and a default role held before the grant stay", async () => {
    await admin.query("GRANT app_write TO alice@'%'; SET DEFAULT ROLE app_write FOR alice@'%'");
    const p = mysqlProvider(env);
    const standingGrant = target("acme/access#3", "app_write");
    const standing = await p.held(standingGrant);
    expect(standing).toEqual(["mysql:JIT_ORDERS_DB_URL:alice@%:app_write"]);
    await p.apply(standingGrant);
    await p.revoke(standingGrant, unitsToRevoke(p, standingGrant, standing, []));
    expect(await rolesOf("alice")).toEqual(["app_write"]);
    expect(await defaultRoleOf("alice")).toBe("app_write");
    // Another role: MariaDB has one default role, and the one the person chose is not replaced.
    const other = target("acme/access#4", "analytics_read");
    const otherStanding = await p.held(other);
    expect(otherStanding).toEqual([]);
    await p.apply(other);
    expect(await rolesOf("alice")).toEqual(["analytics_read", "app_write"]);
    expect(await defaultRoleOf("alice")).toBe("app_write");
    await p.revoke(other, unitsToRevoke(p, other, otherStanding, []));
    expect(await rolesOf("alice")).toEqual(["app_write"]);
    expect(await defaultRoleOf("alice")).toBe("app_write");
    await admin.query("SET DEFAULT ROLE NONE FOR alice@'%'; REVOKE app_write FROM alice@'%'");
  });

  it("counts references: two live grants of the same role never end each other early", async () => {
    const p = mysqlProvider(env);
    const first = target("acme/access#5", "analytics_read");
    const second = target("acme/access#6", "analytics_read");
    const firstStanding = standingOf(p, first, await p.held(first), []);
    await p.apply(first);
    const secondStanding = standingOf(p, second, await p.held(second), [{ target: first, standing: firstStanding }]);
    expect(secondStanding).toEqual([]); // held through the first grant, not standing
    await p.apply(second);
    await p.revoke(first, unitsToRevoke(p, first, firstStanding, [{ target: second, standing: secondStanding }]));
    expect(await rolesOf("alice")).toEqual(["analytics_read"]);
    expect(await defaultRoleOf("alice")).toBe("analytics_read");
    await p.revoke(second, unitsToRevoke(p, second, secondStanding, []));
    expect(await rolesOf("alice")).toEqual([]);
    expect(await defaultRoleOf("alice")).toBe("");
  });

  it("ends the person's open sessions on revoke with end_sessions, and only then", async () => {
    const p = mysqlProvider(env);
    const bystander = await mysql.createConnection({ uri: server.url("bob") });
    // Without end_sessions the open session keeps the revoked role active: the gap end_sessions closes.
    const kept = target("acme/access#7", "analytics_read");
    await p.apply(kept);
    const open = await mysql.createConnection({ uri: server.url("alice") });
    await p.revoke(kept, unitsToRevoke(p, kept, [], []));
    const [still] = await open.query<mysql.RowDataPacket[]>("SELECT CURRENT_ROLE() AS r");
    expect(still[0]?.r).toBe("analytics_read");
    await open.end();

    const ended = target("acme/access#8", "analytics_read", { grant: { role: "analytics_read", end_sessions: true } });
    await p.apply(ended);
    const sessions = [await mysql.createConnection({ uri: server.url("alice") }), await mysql.createConnection({ uri: server.url("alice") })];
    await p.revoke(ended, unitsToRevoke(p, ended, [], []));
    for (const s of sessions) {
      await expect(s.query("SELECT 1")).rejects.toThrow();
      s.destroy();
    }
    // A killed connection leaves the process list once its thread notices, just after the client hears of it.
    const sessionsLeft = async () => Number((await admin.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = 'alice'"))[0][0]?.n);
    for (let i = 0; i < 100 && (await sessionsLeft()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await sessionsLeft()).toBe(0);
    // Somebody else's session is untouched.
    await expect(bystander.query("SELECT 1")).resolves.toBeDefined();
    await bystander.end();
  });

  it("says so when the app's account cannot see other connections, instead of ending none in silence", async () => {
    await admin.query("CREATE USER blind@'%' IDENTIFIED BY 'blind-pw-123'; GRANT analytics_read TO blind@'%' WITH ADMIN OPTION; GRANT SELECT, UPDATE ON mysql.* TO blind@'%'");
    const p = mysqlProvider({ JIT_ORDERS_DB_URL: server.url("blind", "blind-pw-123") });
    const t = target("acme/access#19", "analytics_read", { grant: { role: "analytics_read", end_sessions: true } });
    await p.apply(t);
    const open = await mysql.createConnection({ uri: server.url("alice") });
    const error = await p.revoke(t, unitsToRevoke(p, t, [], [])).catch((e: unknown) => e);
    expect(error).toMatchObject({
      message: "orders-db: the role was revoked, but end_sessions needs the PROCESS privilege for the account in JIT_ORDERS_DB_URL to see the person's connections",
      retryable: false,
    });
    expect(await rolesOf("alice")).toEqual([]);
    await open.end();
  });

  it("does not end sessions when reference counting keeps the role", async () => {
    const p = mysqlProvider(env);
    const first = target("acme/access#9", "analytics_read", { grant: { role: "analytics_read", end_sessions: true } });
    const second = target("acme/access#10", "analytics_read");
    await p.apply(first);
    await p.apply(second);
    const open = await mysql.createConnection({ uri: server.url("alice") });
    await p.revoke(first, unitsToRevoke(p, first, [], [{ target: second, standing: [] }]));
    await expect(open.query("SELECT 1")).resolves.toBeDefined();
    await open.end();
    await p.revoke(second, unitsToRevoke(p, second, [], []));
  });

  it("creates a missing role with create_role, maps logins through config.users and quotes names", async () => {
    const p = mysqlProvider(env);
    const created = target("acme/access#11", "reporting", { grant: { role: "reporting", create_role: true } });
    await p.apply(created);
    await p.apply(created); // CREATE ROLE IF NOT EXISTS: a replay is fine
    expect(await rolesOf("alice")).toEqual(["reporting"]);
    await p.revoke(created, unitsToRevoke(p, created, [], []));
    const mapped = target("acme/access#12", "odd'role", { config: { url_env: "JIT_ORDERS_DB_URL", users: { Alice: "alice_ro@10.0.%" } } });
    await p.apply(mapped);
    expect(await rolesOf("alice_ro", "10.0.%")).toEqual(["odd'role"]);
    expect(p.units(mapped)).toEqual(["mysql:JIT_ORDERS_DB_URL:alice_ro@10.0.%:odd'role"]);
    await p.revoke(mapped, unitsToRevoke(p, mapped, [], []));
    expect(await rolesOf("alice_ro", "10.0.%")).toEqual([]);
    const injection = target("acme/access#13", "analytics_read' TO alice@'%'; DROP USER bob@'%'; --");
    // Even where the server reads backslashes as text: mysql2 follows the session's NO_BACKSLASH_ESCAPES when it escapes.
    await admin.query("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')");
    const error = await p.apply(injection).catch((e: unknown) => e);
    await admin.query("SET GLOBAL sql_mode = REPLACE(@@GLOBAL.sql_mode, 'NO_BACKSLASH_ESCAPES', '')");
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toMatch(/^orders-db: GRANT failed: Invalid role specification/);
    const [bob] = await admin.query<mysql.RowDataPacket[]>("SELECT 1 FROM mysql.user WHERE User = 'bob'");
    expect(bob).toHaveLength(1);
  });

  it("refuses a requester without an account, clearly and without retrying", async () => {
    const error = await mysqlProvider(env).apply(target("acme/access#14", "analytics_read", { requester: "mallory" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ message: "orders-db: there is no account mallory@% (map logins with config.users)", retryable: false });
  });

  it("says which privilege is missing without naming the app's account or host", async () => {
    await admin.query("CREATE USER weak@'%' IDENTIFIED BY 'weak-pw-123'; GRANT SELECT ON mysql.* TO weak@'%'");
    const error = (await mysqlProvider({ JIT_ORDERS_DB_URL: server.url("weak", "weak-pw-123") }).apply(target("acme/access#15", "analytics_read")).catch((e: unknown) => e)) as ProviderError;
    expect(error).toMatchObject({ retryable: false });
    expect(error.message).toMatch(/^orders-db: GRANT failed: the account in JIT_ORDERS_DB_URL lacks a privilege this needs \(error \d+;/);
    for (const hidden of ["weak", "127.0.0.1", "weak-pw-123"]) expect(error.message).not.toContain(hidden);
    expect(error.detail).toContain("weak");
    expect(error.detail).not.toContain("weak-pw-123");
  });

  it("names a missing environment variable, and shows refused logins and connections without the URL's parts", async () => {
    await expect(mysqlProvider({}).apply(target("acme/access#16", "analytics_read"))).rejects.toThrow(
      "orders-db: the environment variable JIT_ORDERS_DB_URL (url_env) is not set on the jit-access server",
    );
    const refused = server.url("payroll-admin", "hunter2-secret");
    const login = (await mysqlProvider({ JIT_ORDERS_DB_URL: refused }).held(target("acme/access#17", "analytics_read")).catch((e: unknown) => e)) as ProviderError;
    expect(login).toMatchObject({
      message: "orders-db: reading role memberships failed: authentication failed (the server refused the user or password in JIT_ORDERS_DB_URL)",
      retryable: false,
    });
    expect(login.detail).toContain("payroll-admin");
    expect(login.detail).not.toContain("hunter2-secret");
    const port = await closedPort();
    const url = `mysql://payroll-admin:hunter2-secret@127.0.0.1:${port}/payroll`;
    const error = (await mysqlProvider({ JIT_ORDERS_DB_URL: url }).apply(target("acme/access#18", "analytics_read")).catch((e: unknown) => e)) as ProviderError;
    expect(error).toMatchObject({ message: "orders-db: GRANT failed: could not connect to the database (connection refused)", retryable: true });
    for (const hidden of ["127.0.0.1", String(port), "payroll", "hunter2"]) expect(error.message).not.toContain(hidden);
  });
});
