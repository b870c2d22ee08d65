import { findMariaDb, type MariaDbBins } from "../../testkit/mariadb-server.js";

export { startMariaDb, type MariaDbBins, type TestMariaDb } from "../../testkit/mariadb-server.js";

/** Under CI a missing server is a failure; elsewhere the tests say so loudly and are reported as skipped. */
export function mariaDbAvailability(): { bins: MariaDbBins } | { missing: string } {
  const bins = findMariaDb();
  if (bins) return { bins };
  const missing = "MariaDB server binaries (mariadbd, mariadb-install-db) were not found; install them (Debian: apt-get install -y mariadb-server) or set MARIADB_BIN";
  if (process.env.CI) throw new Error(`${missing}. Under CI the mysql provider tests must run.`);
  return { missing };
}
