import { findRedisServer } from "../../testkit/redis-server.js";

export { RedisServer } from "../../testkit/redis-server.js";

/** Under CI a missing redis-server is a failure; elsewhere the tests say so loudly and are reported as skipped. */
export function redisAvailability(): { bin: string } | { missing: string } {
  const bin = findRedisServer();
  if (bin) return { bin };
  const missing = "redis-server was not found; install it (Debian: apt-get install -y redis-server) or set REDIS_BIN to its directory";
  if (process.env.CI) throw new Error(`${missing}. Under CI the Redis tests must run.`);
  console.warn(`\n*** SKIPPING the Redis tests: ${missing} ***\n`);
  return { missing };
}
