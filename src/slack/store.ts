import { randomUUID } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Redis } from "ioredis";

/**
 * The Slack app's small shared state: where each request's message is, account links, link states
 * and replay marks. With REDIS_URL it lives in Redis (every replica sees it); otherwise in a JSON
 * file only this process writes (mode 0600: it holds encrypted tokens), or in memory where losing
 * it on restart costs nothing (replay marks live 5 minutes).
 */
export interface KeyValue {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets only if absent; true when this call set it (replay marks, single-use states). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Reads and deletes in one step (a single-use state is used once, whoever asks first). */
  take(key: string): Promise<string | undefined>;
  delete(key: string): Promise<void>;
}

const PREFIX = "jit:slack:";

export class RedisKeyValue implements KeyValue {
  constructor(private readonly redis: Redis) {}
  async get(key: string) {
    return (await this.redis.get(PREFIX + key)) ?? undefined;
  }
  async set(key: string, value: string, ttlMs?: number) {
    if (ttlMs === undefined) await this.redis.set(PREFIX + key, value);
    else await this.redis.set(PREFIX + key, value, "PX", Math.max(1, Math.ceil(ttlMs)));
  }
  async setIfAbsent(key: string, value: string, ttlMs: number) {
    return (await this.redis.set(PREFIX + key, value, "PX", Math.max(1, Math.ceil(ttlMs)), "NX")) === "OK";
  }
  async take(key: string) {
    return (await this.redis.getdel(PREFIX + key)) ?? undefined;
  }
  async delete(key: string) {
    await this.redis.del(PREFIX + key);
  }
}

interface Entry {
  v: string;
  /** Epoch ms after which the entry is gone. */
  exp?: number;
}

/** In this process only; entries expire. The file store builds on it. */
export class MemoryKeyValue implements KeyValue {
  protected readonly entries = new Map<string, Entry>();
  constructor(protected readonly now: () => number = Date.now) {}

  protected live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e?.exp !== undefined && e.exp <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }
  async get(key: string) {
    return this.live(key)?.v;
  }
  async set(key: string, value: string, ttlMs?: number) {
    this.entries.set(key, { v: value, ...(ttlMs === undefined ? {} : { exp: this.now() + ttlMs }) });
    await this.changed();
  }
  async setIfAbsent(key: string, value: string, ttlMs: number) {
    if (this.live(key)) return false;
    await this.set(key, value, ttlMs);
    return true;
  }
  async take(key: string) {
    const e = this.live(key);
    if (!e) return undefined;
    this.entries.delete(key);
    await this.changed();
    return e.v;
  }
  async delete(key: string) {
    if (this.entries.delete(key)) await this.changed();
  }
  protected async changed(): Promise<void> {}
}

/**
 * A JSON file of mode 0600, rewritten whole (to a temporary file, then renamed) after each change:
 * the state is small (one entry per open request and per linked person). One process only.
 */
export class FileKeyValue extends MemoryKeyValue {
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly path: string, now: () => number) {
    super(now);
  }

  static async open(path: string, now: () => number = Date.now): Promise<FileKeyValue> {
    const store = new FileKeyValue(path, now);
    let text: string | undefined;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (text !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new Error(`${path} is not the Slack state file jit-access writes (not JSON); move it away to start empty`);
      }
      for (const [k, e] of Object.entries((parsed ?? {}) as Record<string, Entry>)) if (typeof e?.v === "string") store.entries.set(k, e);
      await chmod(path, 0o600);
    }
    // Written once now: a file that cannot be written (a read-only image directory) stops the start, not a link later.
    await store.changed();
    return store;
  }

  protected override changed(): Promise<void> {
    // Writes queue up in order, so the file always ends as the last change left it.
    this.writing = this.writing.then(async () => {
      const now = this.now();
      const live = Object.fromEntries([...this.entries].filter(([, e]) => e.exp === undefined || e.exp > now));
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      const tmp = `${this.path}.${randomUUID()}.tmp`;
      await writeFile(tmp, JSON.stringify(live), { mode: 0o600 });
      await rename(tmp, this.path);
    });
    return this.writing;
  }
}
