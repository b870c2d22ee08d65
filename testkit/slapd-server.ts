import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./redis-server.js";

/**
 * A throwaway OpenLDAP server for one test file: a `slapd.conf` with the core, cosine and
 * inetOrgPerson schemas and one mdb database (`dc=example,dc=org`, its rootdn and rootpw), started
 * with `-f` on a free loopback port, removed afterwards. Debian's slapd package is enough.
 */
export const SLAPD = "/usr/sbin/slapd";
const SCHEMA = "/etc/ldap/schema";
const MODULES = "/usr/lib/ldap";

export function slapdAvailability(): { ok: true } | { missing: string } {
  if (existsSync(SLAPD) && existsSync(join(SCHEMA, "inetorgperson.schema")) && existsSync(join(MODULES, "back_mdb.so"))) return { ok: true };
  const text = `OpenLDAP's slapd was not found (${SLAPD}, ${SCHEMA}, ${MODULES}/back_mdb.so); install it (Debian: apt-get install -y slapd)`;
  if (process.env.CI) throw new Error(`${text}. Under CI the ldap provider tests must run.`);
  return { missing: text };
}

export const SUFFIX = "dc=example,dc=org";
export const ROOT_DN = `cn=admin,${SUFFIX}`;

export interface TestSlapd {
  url: string;
  rootPassword: string;
  stop(): void;
}

/** `access` lines go after the database's settings (OpenLDAP ACLs; the rootdn passes them all). */
export async function startSlapd(rootPassword: string, access: readonly string[] = []): Promise<TestSlapd> {
  const dir = mkdtempSync(join(tmpdir(), "jitslapd-"));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, "db"));
  const port = await freePort();
  writeFileSync(
    join(dir, "slapd.conf"),
    [
      `include ${SCHEMA}/core.schema`,
      `include ${SCHEMA}/cosine.schema`,
      `include ${SCHEMA}/inetorgperson.schema`,
      `modulepath ${MODULES}`,
      "moduleload back_mdb",
      `pidfile ${join(dir, "pid")}`,
      "database mdb",
      "maxsize 67108864",
      `suffix "${SUFFIX}"`,
      `rootdn "${ROOT_DN}"`,
      `rootpw ${rootPassword}`,
      `directory ${join(dir, "db")}`,
      ...access,
      "",
    ].join("\n"),
  );
  const url = `ldap://127.0.0.1:${port}`;
  const server: ChildProcess = spawn(SLAPD, ["-f", join(dir, "slapd.conf"), "-h", `${url}/`, "-d", "0"], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  server.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  for (let i = 0; ; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => (socket.end(), resolve(true)));
      socket.on("error", () => resolve(false));
    });
    if (open) break;
    if (i >= 100 || server.exitCode !== null) throw new Error(`slapd did not listen on ${port}: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    rootPassword,
    stop() {
      server.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
