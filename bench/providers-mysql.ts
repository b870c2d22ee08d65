import mysql from "mysql2/promise";
import { mysqlProvider } from "../src/providers/mysql.js";
import { unitsToRevoke, type GrantTarget } from "../src/providers/types.js";
import { findMariaDb, startMariaDb } from "../testkit/mariadb-server.js";
import { fmt, summarize } from "./stats.js";

/**
 * The mysql provider's apply and revoke latency against a real MariaDB on loopback: each call
 * opens its own connection (as in production), reads the server's version, the account and its
 * default role, and writes the GRANT/REVOKE. `end_sessions` adds the process list and a KILL per
 * open session (one here).
 */
export async function benchMysqlProvider(rounds = 200): Promise<string[]> {
  const bins = findMariaDb();
  if (!bins) return ["skipped: mariadbd / mariadb-install-db not found (Debian: apt-get install -y mariadb-server)"];
  const server = await startMariaDb(bins);
  try {
    const admin = await mysql.createConnection({ uri: server.url(), multipleStatements: true });
    await admin.query(`CREATE ROLE analytics_read; CREATE USER alice@'%'; CREATE USER jit@'%' IDENTIFIED BY 'bench-pw';
      GRANT analytics_read TO jit@'%' WITH ADMIN OPTION; GRANT PROCESS, CONNECTION ADMIN ON *.* TO jit@'%'; GRANT SELECT, UPDATE ON mysql.* TO jit@'%'`);
    await admin.end();
    const provider = mysqlProvider({ JIT_BENCH_DB_URL: server.url("jit", "bench-pw") });
    const target = (endSessions: boolean): GrantTarget => ({
      id: "acme/access#1",
      requester: "alice",
      resource: "bench-db",
      role: "read",
      provider: "mysql",
      config: { url_env: "JIT_BENCH_DB_URL" },
      grant: { role: "analytics_read", end_sessions: endSessions },
      startsAt: "2026-12-07T00:00:00Z",
      expiresAt: "2026-12-07T01:00:00Z",
      pullRequest: "https://github.com/acme/access/pull/1",
    });
    const lines: string[] = [];
    for (const endSessions of [false, true]) {
      const t = target(endSessions);
      const apply: number[] = [];
      const revoke: number[] = [];
      for (let i = 0; i < rounds; i++) {
        let start = performance.now();
        await provider.apply(t);
        apply.push(performance.now() - start);
        const session = endSessions ? await mysql.createConnection({ uri: server.url("alice") }) : undefined;
        start = performance.now();
        await provider.revoke(t, unitsToRevoke(provider, t, [], []));
        revoke.push(performance.now() - start);
        session?.destroy();
      }
      for (const [what, samples] of [[endSessions ? "apply (end_sessions role)" : "apply", apply], [endSessions ? "revoke + end 1 open session" : "revoke", revoke]] as const) {
        const s = summarize(samples);
        lines.push(`mysql ${what}: median ${fmt(s.median, 2)} ms, p99 ${fmt(s.p99, 2)} ms (n=${s.n})`);
      }
    }
    return lines;
  } finally {
    await server.stop();
  }
}
