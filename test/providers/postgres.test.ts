import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer } from "node:net";
import pg from "pg";
import { postgresProvider } from "../../src/providers/postgres.js";
import { ProviderError, unitsToRevoke, type GrantTarget } from "../../src/providers/types.js";
import { postgresAvailability, startPostgres, type TestPostgres } from "../helpers/postgres.js";

const availability = postgresAvailability();
if ("missing" in availability) {
  console.warn(`\n${"!".repeat(80)}\n!! postgres provider tests NOT RUN: ${availability.missing}\n${"!".repeat(80)}\n`);
}
const describePg = "bin" in availability ? describe : describe.skip;

let server: TestPostgres;
let admin: pg.Client;

async function memberships(login: string): Promise<string[]> {
  const { rows } = await admin.query<{ rolname: string }>(
    "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.member JOIN pg_roles g ON g.oid = m.roleid WHERE u.rolname = $1 ORDER BY 1",
    [login],
  );
  return rows.map((r) => r.rolname);
}

/** A loopback port nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const target = (id: string, roles: string[], extra: Partial<GrantTarget> = {}): GrantTarget => ({
  id,
  requester: "alice",
  resource: "prod-db",
  role: "read-only",
  provider: "postgres",
  config: { url_env: "JIT_PROD_DB_URL" },
  grant: { roles },
  startsAt: "2026-11-29T13:00:00Z",
  expiresAt: "2026-11-29T15:00:00Z",
  pullRequest: "https://github.com/acme/access/pull/7",
  ...extra,
});

describePg("the postgres provider, against a real PostgreSQL server", () => {
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startPostgres((availability as { bin: string }).bin);
    admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query("CREATE ROLE alice LOGIN; CREATE ROLE alice_ro LOGIN; CREATE ROLE analytics_read; CREATE ROLE app_write; CREATE ROLE \"odd\"\"role\"; CREATE ROLE jit LOGIN PASSWORD 's3cret-pw' CREATEROLE");
    await admin.query('GRANT analytics_read, app_write, "odd""role" TO jit WITH ADMIN OPTION');
    // end_sessions: a non-superuser may end other roles' sessions only through pg_signal_backend.
    await admin.query("GRANT pg_signal_backend TO jit; CREATE ROLE bob LOGIN");
    // The app connects as a dedicated role with the right to grant these roles, not as a superuser.
    env = { JIT_PROD_DB_URL: server.url("jit", "s3cret-pw") };
  }, 60_000);
  afterAll(async () => {
    await admin?.end();
    server?.stop();
  });

  it("applies with GRANT and revokes with REVOKE", async () => {
    const p = postgresProvider(env);
    const t = target("acme/access#1", ["analytics_read"]);
    expect(await p.held(t)).toEqual([]);
    await p.apply(t);
    expect(await memberships("alice")).toEqual(["analytics_read"]);
    await p.apply(t); // idempotent
    await p.revoke(t, unitsToRevoke(p, t, [], []));
    expect(await memberships("alice")).toEqual([]);
    await p.revoke(t, unitsToRevoke(p, t, [], [])); // idempotent: nothing left to revoke
  });

  it("keeps standing membership: a role held before the grant is not revoked", async () => {
    await admin.query("GRANT app_write TO alice");
    const p = postgresProvider(env);
    const t = target("acme/access#2", ["analytics_read", "app_write"]);
    const standing = await p.held(t);
    expect(standing).toEqual(["postgres:JIT_PROD_DB_URL:alice:app_write"]);
    await p.apply(t);
    await p.revoke(t, unitsToRevoke(p, t, standing, []));
    expect(await memberships("alice")).toEqual(["app_write"]);
    await admin.query("REVOKE app_write FROM alice");
  });

  it("counts references: two live grants of the same role never end each other early", async () => {
    const p = postgresProvider(env);
    const first = target("acme/access#3", ["analytics_read"]);
    const second = target("acme/access#4", ["analytics_read", "app_write"]);
    await p.apply(first);
    await p.apply(second);
    await p.revoke(first, unitsToRevoke(p, first, [], [{ target: second, standing: [] }]));
    expect(await memberships("alice")).toEqual(["analytics_read", "app_write"]);
    await p.revoke(second, unitsToRevoke(p, second, [], []));
    expect(await memberships("alice")).toEqual([]);
  });

  it("ends the login's open sessions on revoke with end_sessions, and only then", async () => {
    const p = postgresProvider(env);
    const connectAs = async (user: string) => {
      const c = new pg.Client({ connectionString: server.url(user) });
      c.on("error", () => {}); // the terminated session reports here as well as through its next query
      await c.connect();
      return c;
    };
    const bystander = await connectAs("bob");
    // Without end_sessions, a session that switched to the role stays that role after the revoke: the gap end_sessions closes.
    const kept = target("acme/access#20", ["analytics_read"]);
    await p.apply(kept);
    const open = await connectAs("alice");
    await open.query("SET ROLE analytics_read");
    await p.revoke(kept, unitsToRevoke(p, kept, [], []));
    expect((await open.query<{ current_user: string }>("SELECT current_user")).rows[0]?.current_user).toBe("analytics_read");
    await open.end();

    const ended = target("acme/access#21", ["analytics_read"], { grant: { roles: ["analytics_read"], end_sessions: true } });
    await p.apply(ended);
    const sessions = [await connectAs("alice"), await connectAs("alice")];
    await sessions[0]!.query("SET ROLE analytics_read");
    await p.revoke(ended, unitsToRevoke(p, ended, [], []));
    for (const session of sessions) {
      await expect(session.query("SELECT 1")).rejects.toThrow();
      await session.end().catch(() => {});
    }
    // A terminated backend leaves pg_stat_activity as its process exits, just after the client hears of it.
    const sessionsLeft = async () => Number((await admin.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE usename = 'alice'")).rows[0]?.n);
    for (let i = 0; i < 100 && (await sessionsLeft()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await sessionsLeft()).toBe(0);
    expect(await memberships("alice")).toEqual([]);
    // Somebody else's session is untouched.
    await expect(bystander.query("SELECT 1")).resolves.toBeDefined();
    await bystander.end();
  });

  it("does not end sessions when reference counting keeps the roles", async () => {
    const p = postgresProvider(env);
    const first = target("acme/access#22", ["analytics_read"], { grant: { roles: ["analytics_read"], end_sessions: true } });
    const second = target("acme/access#23", ["analytics_read"]);
    await p.apply(first);
    await p.apply(second);
    const open = new pg.Client({ connectionString: server.url("alice") });
    await open.connect();
    await p.revoke(first, unitsToRevoke(p, first, [], [{ target: second, standing: [] }]));
    await expect(open.query("SELECT 1")).resolves.toBeDefined();
    await open.end();
    await p.revoke(second, unitsToRevoke(p, second, [], []));
    expect(await memberships("alice")).toEqual([]);
  });

  it("maps logins through config.users and quotes identifiers (a role name cannot inject SQL)", async () => {
    const p = postgresProvider(env);
    const t = target("acme/access#5", ['odd"role'], { config: { url_env: "JIT_PROD_DB_URL", users: { Alice: "alice_ro" } } });
    await p.apply(t);
    expect(await memberships("alice_ro")).toEqual(['odd"role']);
    const injection = target("acme/access#6", ["analytics_read; DROP ROLE alice"]);
    await expect(p.apply(injection)).rejects.toThrow('role "analytics_read; DROP ROLE alice" does not exist');
    expect((await admin.query("SELECT 1 FROM pg_roles WHERE rolname = 'alice'")).rowCount).toBe(1);
  });

  it("refuses a requester without a PostgreSQL role, clearly and without retrying", async () => {
    const error = await postgresProvider(env).apply(target("acme/access#7", ["analytics_read"], { requester: "mallory" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ message: "prod-db: there is no PostgreSQL role named mallory (map logins with config.users)", retryable: false });
  });

  it("names a missing environment variable, and never shows the password of a failing URL", async () => {
    await expect(postgresProvider({}).apply(target("acme/access#8", ["analytics_read"]))).rejects.toThrow(
      "prod-db: the environment variable JIT_PROD_DB_URL (url_env) is not set on the jit-access server",
    );
    const wrong = server.url("nobody-here", "hunter2-secret");
    const error = (await postgresProvider({ JIT_PROD_DB_URL: wrong }).apply(target("acme/access#9", ["analytics_read"])).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.message).toContain("GRANT failed");
    expect(error.message).not.toContain("hunter2-secret");
  });

  // Provider errors are shown on the PR: they must not tell anyone where the database is or who the app connects as.
  it("shows a refused connection without the host, port, user, password or database of the URL", async () => {
    const port = await closedPort();
    const url = `postgres://payroll-admin:hunter2-secret@127.0.0.1:${port}/payroll`;
    const error = (await postgresProvider({ JIT_PROD_DB_URL: url }).apply(target("acme/access#10", ["analytics_read"])).catch((e: unknown) => e)) as ProviderError;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ message: "prod-db: GRANT failed: could not connect to the database (connection refused)", retryable: true });
    for (const hidden of ["127.0.0.1", String(port), "payroll", "hunter2"]) expect(error.message).not.toContain(hidden);
    // The log still says what happened, but never the password.
    expect(error.detail).toContain("ECONNREFUSED");
    expect(error.detail).not.toContain("hunter2-secret");
  });

  it("shows a login the server refuses as an authentication failure, without the user", async () => {
    const url = server.url("payroll-admin", "hunter2-secret");
    const error = (await postgresProvider({ JIT_PROD_DB_URL: url }).held(target("acme/access#11", ["analytics_read"])).catch((e: unknown) => e)) as ProviderError;
    expect(error).toMatchObject({
      message: "prod-db: reading role memberships failed: authentication failed (the server refused the user or password in JIT_PROD_DB_URL)",
      retryable: false,
    });
    expect(error.detail).toContain('role "payroll-admin" does not exist');
    const port = new URL(url).port;
    for (const hidden of ["payroll-admin", "127.0.0.1", port, "hunter2"]) expect(error.message).not.toContain(hidden);
  });

  it("shows a missing database without naming it", async () => {
    const url = server.url("jit", "s3cret-pw").replace(/\/postgres$/, "/payroll_db");
    const error = (await postgresProvider({ JIT_PROD_DB_URL: url }).apply(target("acme/access#12", ["analytics_read"])).catch((e: unknown) => e)) as ProviderError;
    expect(error.message).toBe("prod-db: GRANT failed: the database named in JIT_PROD_DB_URL does not exist");
  });

  it("shows an unknown host name without naming it", async () => {
    const url = "postgres://payroll-admin:hunter2-secret@db.payroll.invalid:6543/payroll";
    const error = (await postgresProvider({ JIT_PROD_DB_URL: url }).apply(target("acme/access#13", ["analytics_read"])).catch((e: unknown) => e)) as ProviderError;
    expect(error).toMatchObject({ message: "prod-db: GRANT failed: could not connect to the database (host name not found)", retryable: true });
  });
});
