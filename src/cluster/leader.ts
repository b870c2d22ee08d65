import { Redlock, type Lock } from "@sesamecare-oss/redlock";
import type { Redis } from "ioredis";
import { refusal } from "./locks.js";

/**
 * One scheduler across replicas: a lease (a redlock lock on one key) that its holder renews while
 * it is healthy. Only an *active* replica runs the timer, the sweep and the rebuild that precedes
 * them; every replica answers webhooks whatever its role.
 *
 * - leader: holds the lease, renews it every `renewMs`; active.
 * - follower: another replica holds it; tries to take it every `pollMs`. A leader that dies stops
 *   renewing, its lease expires after `ttlMs`, and a follower takes it within `ttlMs + pollMs`.
 * - alone: Redis has not answered for `aloneAfterMs` (or the leader lost it): active too. Without
 *   Redis every replica runs its scheduler, so that revokes still happen; applies need a request
 *   lock, which nobody has then (docs/operations/replicas.md).
 */
export type Role = "leader" | "follower" | "alone";

export interface LeaseOptions {
  ttlMs: number;
  renewMs: number;
  pollMs: number;
  aloneAfterMs: number;
}

export const LEASE_KEY = "jit-access:scheduler-leader";

export class LeaderLease {
  role: Role = "follower";
  private lock: Lock | undefined;
  private unreachableSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private stepping: Promise<void> = Promise.resolve();
  private readonly redlock: Redlock;

  constructor(
    redis: Redis,
    private readonly options: LeaseOptions,
    /** Called on every change of role, after `role` is set. */
    private readonly onChange: (role: Role, previous: Role) => void,
  ) {
    this.redlock = new Redlock([redis], { retryCount: 0, driftFactor: 0.01 });
    this.redlock.on("error", () => {});
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops renewing; `handOver` releases the lease so another replica takes it at once (a clean shutdown). */
  async stop({ handOver }: { handOver: boolean }): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.stepping;
    if (handOver && this.lock) await this.lock.release().catch(() => {});
    this.lock = undefined;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.stepping = this.step().finally(() => {
        if (!this.stopped) this.schedule(this.role === "leader" ? this.options.renewMs : this.options.pollMs);
      });
    }, ms);
  }

  private async step(): Promise<void> {
    if (this.role === "leader" && this.lock) {
      try {
        this.lock = await this.lock.extend(this.options.ttlMs);
        this.unreachableSince = undefined;
        return;
      } catch (error) {
        if ((await refusal(error)) === "unreachable") {
          // Keep the scheduler running: nobody else may be able to revoke now.
          this.unreachableSince ??= Date.now();
          this.lock = undefined;
          return this.become("alone");
        }
        this.lock = undefined; // expired, or Redis restarted empty: try to take it again at once
      }
    }
    try {
      this.lock = await this.redlock.acquire([LEASE_KEY], this.options.ttlMs);
      this.unreachableSince = undefined;
      this.become("leader");
    } catch (error) {
      if ((await refusal(error)) === "held") {
        this.unreachableSince = undefined;
        return this.become("follower");
      }
      this.unreachableSince ??= Date.now();
      if (this.role !== "follower" || Date.now() - this.unreachableSince >= this.options.aloneAfterMs) this.become("alone");
    }
  }

  private become(role: Role): void {
    if (this.stopped || role === this.role) return;
    const previous = this.role;
    this.role = role;
    this.onChange(role, previous);
  }
}
