import { Redis } from "ioredis";

/**
 * This app's own connection to the shared Redis (Probot opens another for its throttling).
 *
 * Commands fail at once while the connection is down (no offline queue, one try): a lock or a
 * lease that cannot be had *now* must be known now, not after ioredis has queued the command for
 * seconds — the caller then falls back to what docs/operations/replicas.md allows without Redis. The client
 * keeps reconnecting in the background, at most every 2 s.
 *
 * The URL may carry a password: it is handed to ioredis and never logged; state changes are
 * logged without it.
 */
export function connectRedis(url: string, log: { warn(msg: string): void; info(msg: string): void }): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // A Redis that accepts the connection but does not answer (paused, overloaded) counts as down.
    commandTimeout: 1_000,
    // A socket that does not close on its own is destroyed this soon after disconnect().
    disconnectTimeout: 200,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
  });
  let wasReady = false;
  redis.on("ready", () => {
    if (!wasReady) log.info("redis: connected");
    wasReady = true;
  });
  redis.on("close", () => {
    if (wasReady) log.warn("redis: connection lost; reconnecting (see /healthz)");
    wasReady = false;
  });
  // ioredis emits every failed reconnect as an error; the state above is what matters.
  redis.on("error", () => {});
  return redis;
}

/** Whether the connection is usable right now. */
export function redisReady(redis: Redis): boolean {
  return redis.status === "ready";
}
