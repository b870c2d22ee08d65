/**
 * /readyz: GitHub reachable with the app's credentials (checked at most every 30 s, shared by
 * concurrent probes) and, when configured, Redis answering. Only states are reported — never an
 * error message, which could carry a host, a URL or a token.
 */
export interface ReadinessReport {
  ready: boolean;
  github: string;
  redis: "ok" | "unreachable" | "not configured";
  /** Where GitHub requests are throttled (informative: it does not change `ready`). */
  throttling: string;
}

export class Readiness {
  private github: { at: number; result: Promise<string> } | undefined;

  constructor(
    private readonly checkGitHub: () => Promise<void>,
    private readonly checkRedis: (() => Promise<boolean>) | undefined,
    private readonly throttling: () => string,
    private readonly now: () => number = Date.now,
    private readonly cacheMs = 30_000,
  ) {}

  async report(): Promise<ReadinessReport> {
    if (!this.github || this.now() - this.github.at >= this.cacheMs) {
      this.github = { at: this.now(), result: this.checkGitHub().then(() => "ok", describe) };
    }
    const [github, redisOk] = await Promise.all([this.github.result, this.checkRedis?.()]);
    const redis = redisOk === undefined ? "not configured" : redisOk ? "ok" : "unreachable";
    return { ready: github === "ok" && redis !== "unreachable", github, redis, throttling: this.throttling() };
  }
}

/** Octokit reports a request that got no answer as status 500 without a response. */
function describe(error: unknown): string {
  const { status, response } = error as { status?: unknown; response?: unknown };
  return typeof status === "number" && response ? `GitHub answered ${status}` : "unreachable";
}
