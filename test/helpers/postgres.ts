import { findPostgresBin } from "../../testkit/postgres-server.js";

// The server itself lives in testkit/, so that benchmarks start it the same way.
export { findPostgresBin, startPostgres, type TestPostgres } from "../../testkit/postgres-server.js";

/** Under CI a missing server is a failure; elsewhere the tests say so loudly and are reported as skipped. */
export function postgresAvailability(): { bin: string } | { missing: string } {
  const bin = findPostgresBin();
  if (bin) return { bin };
  const missing = "PostgreSQL server binaries (initdb, pg_ctl) were not found; install them (Debian: apt-get install -y postgresql) or set PG_BIN";
  if (process.env.CI) throw new Error(`${missing}. Under CI the postgres provider tests must run.`);
  return { missing };
}
