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

  /** As Probot's own getAuthenticatedOctokit does it, throttling off. */
  private async local(installationId: number | undefined): Promise<unknown> {
    const app = (await this.probot().auth()) as unknown as { constructor: new (options: object) => unknown; auth(options: object): Promise<unknown> };
    const throttle = { enabled: false };
    const Octokit = app.constructor;
    if (!installationId) return new Octokit({ throttle });
    return app.auth({
      type: "installation",
      installationId,
      factory: ({ octokitOptions, octokit: _octokit, ...otherOptions }: { octokitOptions: { auth?: object; throttle?: object }; octokit: unknown }) =>
        new Octokit({
          ...octokitOptions,
          throttle,
          auth: { ...octokitOptions.auth, otherOptions, installationId },
        }),
    });
  }
}
