import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { CommentState } from "./lifecycle/codec.js";

/** What the gauges read when Prometheus scrapes. */
export interface MetricSources {
  /** With REDIS_URL: the Redis gauges exist only then. */
  clustered: boolean;
  queueDepth(): number;
  leader(): boolean;
  schedulerActive(): boolean;
  /** Undefined without REDIS_URL. */
  redisUp(): boolean | undefined;
  /** Whether GitHub requests go through Probot's cluster-wide throttling now; undefined without REDIS_URL. */
  sharedThrottling(): boolean | undefined;
  /** Whether GitHub answered the app's last health check; undefined before the first answer. */
  githubUp?(): boolean | undefined;
  /** Whether this process takes webhooks now (/readyz). */
  ready?(): boolean;
}

/**
 * The process's Prometheus metrics (docs/operations/observability.md), every name prefixed `jit_`. One registry per
 * app instance, not prom-client's global one, so that two instances in one process (tests, the
 * benchmark) keep separate figures. Labels carry resource and provider names from the policy and
 * installation ids — never a secret, a URL or a person.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly webhookAck = new Histogram({
    name: "jit_webhook_ack_seconds",
    help: "Time the webhook route takes to answer GitHub (signature check and handlers, which only queue work).",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly evaluation = new Histogram({
    name: "jit_evaluation_duration_seconds",
    help: "Time one evaluation of a request takes (read GitHub, decide, act), lock waiting excluded.",
    labelNames: ["outcome"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly expiryLag = new Histogram({
    name: "jit_expiry_lag_seconds",
    help: "When the provider's revoke of an expired grant returned, less its expires_at.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly providerErrors = new Counter({
    name: "jit_provider_errors_total",
    help: "Provider calls (held, apply, revoke) that failed, by provider.",
    labelNames: ["provider"],
    registers: [this.registry],
  });

  readonly rateLimitRemaining = new Gauge({
    name: "jit_github_rate_limit_remaining",
    help: "GitHub's x-ratelimit-remaining on the latest response, by installation ('app' for the app's own token) and rate-limit resource.",
    labelNames: ["installation", "resource"],
    registers: [this.registry],
  });

  readonly lockWaits = new Counter({
    name: "jit_lock_waits_total",
    help: "Lock acquisitions that found the lock held by another replica and waited, by lock (request, person); only with REDIS_URL.",
    labelNames: ["lock"],
    registers: [this.registry],
  });

  readonly tamperAlerts = new Counter({
    name: "jit_tamper_alerts_total",
    help: "Displays (status comment, labels) found changed by someone other than the app, and restored.",
    registers: [this.registry],
  });

  readonly bypassAlerts = new Counter({
    name: "jit_bypass_alerts_total",
    help: "Requests merged although the policy was not met (nothing applied).",
    registers: [this.registry],
  });

  readonly alerts = new Counter({
    name: "jit_alerts_total",
    help: "Alerts (log lines with alert: true), by reason: bypass (merged without the policy met), tamper (a display changed by someone else, reference counting skipped).",
    labelNames: ["reason"],
    registers: [this.registry],
  });

  private readonly liveByKey = new Map<string, string>();

  constructor(sources: MetricSources) {
    const live = this.liveByKey;
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    gauge("jit_leader", "1 while this replica holds the scheduler lease (always 1 without Redis: the one process is the scheduler).", () => Number(sources.leader()));
    gauge("jit_scheduler_active", "1 while this replica runs the timer and the sweep (the leader; every replica once Redis has been unreachable for a lease's length).", () => Number(sources.schedulerActive()));
    if (sources.ready) gauge("jit_ready", "1 while this process takes webhooks (/readyz): 0 before the app has loaded and from SIGTERM on.", () => Number(sources.ready!()));
    if (sources.githubUp) {
      const githubUp = sources.githubUp;
      new Gauge({
        name: "jit_github_up",
        help: "1 while GitHub answered the app's last health check (asked at most every 30 s), 0 when it did not; absent before the first answer.",
        registers: [this.registry],
        collect() {
          const up = githubUp();
          if (up === undefined) this.reset();
          else this.set(Number(up));
        },
      });
    }
    if (sources.clustered) {
      gauge("jit_redis_up", "1 while Redis answers this replica, else 0 (only with REDIS_URL).", () => Number(sources.redisUp()));
      gauge("jit_cluster_throttling", "1 while GitHub requests go through Probot's cluster-wide throttling; 0 while they cannot (Redis down, or restarted empty).", () => Number(sources.sharedThrottling()));
    }
    new Gauge({
      name: "jit_queue_depth",
      help: "Requests queued or being evaluated in this process.",
      registers: [this.registry],
      collect() {
        this.set(sources.queueDepth());
      },
    });
    new Gauge({
      name: "jit_live_grants",
      help: "Applied grants not yet ended, by resource, as the active scheduler's index knows them (followers report none).",
      labelNames: ["resource"],
      registers: [this.registry],
      collect() {
        this.reset();
        if (!sources.schedulerActive()) return;
        const counts = new Map<string, number>();
        for (const resource of live.values()) counts.set(resource, (counts.get(resource) ?? 0) + 1);
        for (const [resource, n] of counts) this.set({ resource }, n);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: "jit_" });
  }

  /** What the scheduler learnt of a grant: live (applied, not ended) or not. */
  observeGrant(key: string, state: CommentState | undefined): void {
    if (state?.status === "APPROVED" && state.grant) this.liveByKey.set(key, state.grant.resource);
    else this.liveByKey.delete(key);
  }

  /** The rate-limit headers of a GitHub response, when it has them. */
  observeRateLimit(installation: string, headers: Headers): void {
    const remaining = headers.get("x-ratelimit-remaining");
    if (remaining === null || Number.isNaN(Number(remaining))) return;
    this.rateLimitRemaining.set({ installation, resource: headers.get("x-ratelimit-resource") ?? "core" }, Number(remaining));
  }

  alert(kind: "bypass" | "tamper"): void {
    this.alerts.inc({ reason: kind });
    (kind === "tamper" ? this.tamperAlerts : this.bypassAlerts).inc();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
