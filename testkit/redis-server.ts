import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { existsSync } from "node:fs";
import { createServer, connect } from "node:net";
import { delimiter, join } from "node:path";

/**
 * A throwaway redis-server (Debian's package) for a test file or a benchmark: a free loopback
 * port, no persistence, its own process group, stopped by pid.
 */
export function findRedisServer(): string | undefined {
  const dirs = [process.env.REDIS_BIN, ...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/usr/local/bin"];
  return dirs.map((d) => d && join(d, "redis-server")).find((p): p is string => !!p && existsSync(p));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    private readonly bin: string,
    readonly port: number,
    private readonly password?: string,
  ) {}

  static async start(bin: string, o: { password?: string } = {}): Promise<RedisServer> {
    const redis = new RedisServer(bin, await freePort(), o.password);
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://${this.password ? `:${encodeURIComponent(this.password)}@` : ""}127.0.0.1:${this.port}`;
  }

  /** Starts it again on the same port (empty: nothing is saved). */
  async restart(): Promise<void> {
    const child = spawn(this.bin, ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...(this.password ? ["--requirepass", this.password] : [])], { detached: true, stdio: "ignore" });
    this.child = child;
    const deadline = Date.now() + 5_000;
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on port ${this.port}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Kills it at once (its process group, by pid), as a crash would, and waits until the port is closed. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child?.pid || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-child.pid, "SIGKILL");
    await exited;
  }

  /** Keys matching a pattern, as KEYS shows them. */
  async keys(pattern: string): Promise<string[]> {
    const client = new Redis(this.port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, ...(this.password ? { password: this.password } : {}) });
    try {
      await client.connect();
      return await client.keys(pattern);
    } finally {
      client.disconnect();
    }
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
