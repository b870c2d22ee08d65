import type { Probot } from "probot";
import type { GitHub } from "../github/client.js";
import type { Metrics } from "../metrics.js";
import { instrumentClient } from "./instrument.js";
import type { ThrottleWatch } from "./throttle-watch.js";

/**
 * GitHub clients for the app's work. With REDIS_URL, Probot throttles every request through
 * Bottleneck on Redis (cluster-wide). While Redis is down, such a request can wait for ever —
 * every read and write, revokes included; those already waiting are given up (ThrottleWatch), and
 * while this replica sees Redis down, its clients are made without Probot's throttling (the scheduler still
 * bounds itself: 25 evaluations at once, bookkeeping in turns); as soon as Redis answers, new
 * clients are Probot's again.
 *
 * Not throttled rather than throttled in this process: @octokit/plugin-throttling keeps its
 * limiters in module-wide groups made by the first client that sends a request, so a first client
 * with local limits would leave the whole process without the cluster-wide ones for good.
 */
export class GitHubClients {
  constructor(
    private readonly probot: () => Probot,
    /** Whether Probot's cluster throttling can be used now (always, without REDIS_URL). */
    private readonly sharedThrottling: () => boolean,
    private readonly metrics: Metrics | undefined,
    /** With REDIS_URL: gives up requests stuck in the shared throttle when Redis goes (see ThrottleWatch). */
    private readonly watch?: ThrottleWatch,
  ) {}

  /** The app's own client (JWT) without an id; an installation's with one. */
  async auth(installationId?: number): Promise<GitHub> {
    const shared = this.sharedThrottling();
    const gh = shared ? await this.probot().auth(installationId) : await this.local(installationId);
    return instrumentClient(gh, installationId ? String(installationId) : "app", this.metrics, shared ? this.watch : undefined);
  }

  /** A webhook's client (Probot made it for the event), or a local one while Redis is down (then asynchronously). */
  forEvent(octokit: unknown, installationId: number | undefined): GitHub | Promise<GitHub> {
    if (!this.sharedThrottling() && installationId) return this.auth(installationId);
    return instrumentClient(octokit, installationId ? String(installationId) : "app", this.metrics, this.watch);
  }

  /**
   * The installation's urgent lane: a client of the same installation (same token, same rate
   * limit) whose writes are paced in a throttle group of their own, `<id>-urgent`.
   * @octokit/plugin-throttling gives no single request a priority: its write group lets one write
   * a second per `throttle.id` through, in arrival order, so an apply queued behind a burst of
   * labels and comments waits for all of them. Only provider effects and the record writes that
   * guard them use this lane (github/execute.ts), so it stays short; GitHub's secondary limits
   * apply to the two lanes together (docs/operations/github-api.md, "The budget"). While Redis is down, like every
   * client here, it is made without Probot's throttling.
   */
  async urgent(installationId: number): Promise<GitHub> {
    const shared = this.sharedThrottling();
    const lane = `${installationId}-urgent`;
    const gh = await this.installation(installationId, shared ? (throttle) => (throttle?.enabled ? { ...throttle, id: lane } : { enabled: false }) : () => ({ enabled: false }));
    return instrumentClient(gh, String(installationId), this.metrics, shared ? this.watch : undefined);
  }

  /** As Probot's own getAuthenticatedOctokit does it, throttling off. */
  private async local(installationId: number | undefined): Promise<unknown> {
    if (!installationId) {
      const app = (await this.probot().auth()) as unknown as { constructor: new (options: object) => unknown };
      return new app.constructor({ throttle: { enabled: false } });
    }
    return this.installation(installationId, () => ({ enabled: false }));
  }

  /** An installation's client made as Probot's getAuthenticatedOctokit makes it, with the throttle options `throttle` derives from the app's. */
  private async installation(installationId: number, throttle: (app: { enabled?: boolean } | undefined) => object): Promise<unknown> {
    const app = (await this.probot().auth()) as unknown as { constructor: new (options: object) => unknown; auth(options: object): Promise<unknown> };
    const Octokit = app.constructor;
    return app.auth({
      type: "installation",
      installationId,
      factory: ({ octokitOptions, octokit: _octokit, ...otherOptions }: { octokitOptions: { auth?: object; throttle?: { enabled?: boolean } }; octokit: unknown }) =>
        new Octokit({
          ...octokitOptions,
          throttle: throttle(octokitOptions.throttle),
          auth: { ...octokitOptions.auth, otherOptions, installationId },
        }),
    });
  }
}
