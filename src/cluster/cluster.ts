import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { LeaderLease, type LeaseOptions, type Role } from "./leader.js";
import { RequestLocks, type LockOptions } from "./locks.js";
import { PersonLocks } from "./person-locks.js";
import type { PersonLock } from "../github/person-lock.js";
import { connectRedis, redisReady } from "./redis.js";

export interface ClusterOptions extends LeaseOptions, Omit<LockOptions, "ttlMs" | "onWait"> {
  lockTtlMs: number;
}

/**
 * Timings. A dead leader's lease is taken over within ttlMs + pollMs = 7 s (the issue allows 10).
 * A request lock lives 30 s without renewal and is renewed every 10 s while its job runs; a job
 * waits up to a minute for a lock another replica holds. Followers go "alone" (run the scheduler
 * themselves) when Redis has not answered for a lease's length: by then any leader's lease is over.
 */
const EPOCH_KEY = "jit-access:epoch";

export const CLUSTER_DEFAULTS: ClusterOptions = {
  ttlMs: 6_000,
  renewMs: 2_000,
  pollMs: 1_000,
  aloneAfterMs: 6_000,
  lockTtlMs: 30_000,
  waitMs: 60_000,
  retryMs: 200,
};

/**
 * The replicas' coordination through one Redis (docs/operations/replicas.md): request locks, person locks (the
 * critical section of reference counting; same timings) and the scheduler lease.
 */
export class Cluster {
  readonly redis: Redis;
  readonly locks: RequestLocks;
  readonly personLocks: PersonLocks;
  readonly lease: LeaderLease;
  /**
   * Redis came back without its data (restarted without persistence): Probot's throttling state
   * went with it, and Bottleneck 2.19 does not rebuild it under Redis 7 (it looks for the error
   * text "SETTINGS_KEY_NOT_FOUND", which Redis 7 now prefixes with "ERR"), so every throttled
   * request would fail until the process restarts. This replica then stops using it (see
   * clients.ts) and says so on /healthz and in `jit_cluster_throttling`.
   */
  throttlingLost = false;

  constructor(
    url: string,
    options: Partial<ClusterOptions>,
    log: { info(msg: string): void; warn(msg: string): void },
    onRole: (role: Role, previous: Role) => void,
    /** A lock was found held by another replica, and waited for (a metric). */
    onLockWait: (lock: "request" | "person") => void = () => {},
    /** The app's own turns, which a person's section takes before the shared lock. */
    turns?: PersonLock,
  ) {
    const o = { ...CLUSTER_DEFAULTS, ...options };
    this.redis = connectRedis(url, log);
    const timings = { ttlMs: o.lockTtlMs, waitMs: o.waitMs, retryMs: o.retryMs };
    this.locks = new RequestLocks(this.redis, { ...timings, onWait: () => onLockWait("request") });
    this.personLocks = new PersonLocks(new RequestLocks(this.redis, { ...timings, onWait: () => onLockWait("person") }), turns);
    this.lease = new LeaderLease(this.redis, o, (role, previous) => {
      log.info(`scheduler role: ${previous} → ${role}`);
      onRole(role, previous);
    });
    // A shared key without expiry naming Redis's current "epoch": a replica that finds it missing
    // or changed after a reconnection knows Redis lost its data meanwhile.
    this.redis.on("ready", () => {
      this.epochChecked = this.checkEpoch(log);
    });
  }

  private epoch: string | undefined;
  private epochChecked: Promise<void> = Promise.resolve();

  private async checkEpoch(log: { warn(msg: string): void }): Promise<void> {
    try {
      await this.redis.set(EPOCH_KEY, randomUUID(), "NX");
      const current = (await this.redis.get(EPOCH_KEY)) ?? undefined;
      if (this.epoch !== undefined && current !== this.epoch && !this.throttlingLost) {
        this.throttlingLost = true;
        log.warn("redis: it came back empty (restarted without persistence); Probot's shared throttling is lost, so this replica goes on without it until it is restarted");
      }
      this.epoch = current;
    } catch {
      // Down again already: the next connection checks.
    }
  }

  /** Starts the lease, once Redis has answered (or `waitMs` passed: then it starts without, and finds it later). */
  async start(waitMs = 2_000): Promise<void> {
    if (!this.redisUp) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.redis.once("ready", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await this.epochChecked;
    this.lease.start();
  }

  get role(): Role {
    return this.lease.role;
  }

  get redisUp(): boolean {
    return redisReady(this.redis);
  }

  /** `handOver`: release the lease (clean shutdown); without it, as if the process had died. */
  async stop({ handOver }: { handOver: boolean }): Promise<void> {
    await this.lease.stop({ handOver });
    if (handOver) await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }
}
