/**
 * Two questions, two answers (Kubernetes' probes ask them):
 *
 * - /readyz, "send me webhooks": true only while this process takes work — false before the app
 *   has loaded and from SIGTERM on (draining). Never because GitHub or Redis is briefly away: that
 *   is true of every replica at once, and taking them all out of the Service would lose the very
 *   webhooks that are answered (and queued) whatever GitHub or Redis do.
 * - /healthz, "is this process alive": 200 while it runs, with the details an operator wants —
 *   GitHub reachable with the app's credentials (asked at most every 30 s, never waited for once
 *   known: a liveness probe must answer at once), Redis, throttling. The same states are metrics.
 *
 * Only states are reported — never an error message, which could carry a host, a URL or a token.
 */
export type Serving = "starting" | "serving" | "draining";

export interface ReadinessReport {
  ready: boolean;
  serving: Serving;
}

export interface HealthReport {
  status: "ok";
  serving: Serving;
  /** "ok", "unreachable", "GitHub answered <status>", or "checking" until the first answer is in. */
  github: string;
  redis: "ok" | "unreachable" | "not configured";
  /** Where GitHub requests are throttled. */
  throttling: string;
}

export class Readiness {
  serving: Serving = "starting";
  private github: { at: number; result: Promise<string>; settled?: string } | undefined;

  constructor(
    private readonly checkGitHub: () => Promise<void>,
    /** Undefined without REDIS_URL; else whether Redis answers now (no waiting). */
    private readonly redisUp: (() => boolean) | undefined,
    private readonly throttling: () => string,
    private readonly now: () => number = Date.now,
    private readonly cacheMs = 30_000,
  ) {}

  ready(): ReadinessReport {
    return { ready: this.serving === "serving", serving: this.serving };
  }

  /** GitHub's last known state: undefined before any answer. */
  get githubUp(): boolean | undefined {
    return this.github?.settled === undefined ? undefined : this.github.settled === "ok";
  }

  health(): HealthReport {
    const previous = this.github?.settled;
    if (!this.github || this.now() - this.github.at >= this.cacheMs) {
      const check = { at: this.now(), result: this.checkGitHub().then(() => "ok", describe) } as NonNullable<typeof this.github>;
      void check.result.then((state) => (check.settled = state));
      // The previous answer stays shown until the new one is in.
      if (previous !== undefined) check.settled = previous;
      this.github = check;
    }
    const github = this.github.settled ?? "checking";
    const redisUp = this.redisUp?.();
    const redis = redisUp === undefined ? "not configured" : redisUp ? "ok" : "unreachable";
    return { status: "ok", serving: this.serving, github, redis, throttling: this.throttling() };
  }
}

/** Octokit reports a request that got no answer as status 500 without a response. */
function describe(error: unknown): string {
  const { status, response } = error as { status?: unknown; response?: unknown };
  return typeof status === "number" && response ? `GitHub answered ${status}` : "unreachable";
}
