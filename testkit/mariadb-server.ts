import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import mysql from "mysql2/promise";
import { freePort } from "./redis-server.js";

/**
 * A throwaway MariaDB server for a test file or a benchmark: `mariadb-install-db` into a temporary directory
 * (root may log in over TCP without a password), `mariadbd` on a free loopback port with no
 * binary log, killed by pid and removed afterwards. As root (CI), the server runs as the `mysql`
 * user Debian's package creates (else `nobody`): mariadbd switches to it with `--user`.
 */
export interface TestMariaDb {
  url(user?: string, password?: string): string;
  stop(): Promise<void>;
}

export interface MariaDbBins {
  installDb: string;
  server: string;
}

export function findMariaDb(): MariaDbBins | undefined {
  const dirs = [process.env.MARIADB_BIN, ...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"];
  const find = (name: string) => dirs.map((d) => d && join(d, name)).find((p): p is string => !!p && existsSync(p));
  const installDb = find("mariadb-install-db");
  const server = find("mariadbd");
  return installDb && server ? { installDb, server } : undefined;
}

function serviceUser(): { name: string; uid: number; gid: number } {
  for (const name of ["mysql", "nobody"]) {
    try {
      const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
      const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
      return { name, uid, gid };
    } catch {
      // not on this machine: try the next
    }
  }
  throw new Error("neither a mysql nor a nobody user exists to run mariadbd as");
}

export async function startMariaDb(bins: MariaDbBins): Promise<TestMariaDb> {
  const dir = mkdtempSync(join(tmpdir(), "jitmy-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? serviceUser() : undefined;
  if (user) chownSync(dir, user.uid, user.gid);
  const userArgs = user ? [`--user=${user.name}`] : [];
  execFileSync(bins.installDb, ["--no-defaults", `--datadir=${data}`, ...userArgs, "--auth-root-authentication-method=normal", "--skip-test-db"], { stdio: "pipe", cwd: dir });
  const port = await freePort();
  const args = ["--no-defaults", `--datadir=${data}`, `--socket=${join(dir, "sock")}`, `--port=${port}`, "--bind-address=127.0.0.1", `--pid-file=${join(dir, "pid")}`, "--skip-log-bin", "--skip-name-resolve", ...userArgs];
  const child: ChildProcess = spawn(bins.server, args, { detached: true, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()).length > 20_000 && (log = log.slice(-10_000)));
  const url = (name = "root", password?: string) => `mysql://${encodeURIComponent(name)}${password ? `:${encodeURIComponent(password)}` : ""}@127.0.0.1:${port}/`;
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(child.pid, "SIGKILL");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const c = await mysql.createConnection({ uri: url(), connectTimeout: 1_000 });
      await c.end();
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`mariadbd did not start on port ${port}: ${(error as Error).message}\n${log || readLog(dir)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url, stop };
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, "data", "error.log"), "utf8");
  } catch {
    return "";
  }
}
