import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./redis-server.js";

/**
 * A throwaway PostgreSQL cluster for one test file or benchmark: initdb (trust auth, no fsync), started on
 * a free loopback port, removed afterwards. As root (CI), the server runs as `nobody`, since
 * PostgreSQL refuses to run as root.
 */
export interface TestPostgres {
  url(user?: string, password?: string): string;
  stop(): void;
}

export function findPostgresBin(): string | undefined {
  const candidates = [process.env.PG_BIN, ...listVersions("/usr/lib/postgresql").map((v) => `/usr/lib/postgresql/${v}/bin`), "/usr/local/bin", "/usr/bin"];
  return candidates.find((dir): dir is string => !!dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl")));
}

function listVersions(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
}

export async function startPostgres(bin: string): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "jitpg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot ? ["runuser", ["-u", "nobody", "--", join(bin, cmd), ...args]] : [join(bin, cmd), args];
    execFileSync(file, argv, { stdio: "pipe", cwd: dir });
  };
  if (asRoot) chownSync(dir, 65534, 65534);
  run("initdb", ["-D", data, "--auth=trust", "--no-sync", "-U", "postgres", "--no-instructions"]);
  const port = await freePort();
  run("pg_ctl", ["-D", data, "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "-l", join(dir, "log"), "-w", "start"]);
  return {
    url: (user = "postgres", password) => `postgres://${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ""}@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
