import Bottleneck from "bottleneck";
import type { Probot } from "probot";
import type { GitHub } from "../github/client.js";
import type { Metrics } from "../metrics.js";
import { instrumentClient } from "./instrument.js";

/**
 * GitHub clients for the app's work. With REDIS_URL, Probot throttles every request through
 * Bottleneck on Redis (cluster-wide). While Redis is down, each such request waits for ioredis's
 * retries and fails after about 10 s — every read and write, revokes included. So while this
 * replica sees Redis down, clients are made with the same throttling limits held in this process
 * instead (`localThrottle`); they go back to the shared limits as soon as Redis answers.
 */
export class GitHubClients {
  private readonly localGroups = localThrottleGroups();

  constructor(
    private readonly probot: () => Probot,
    /** Whether Probot's cluster throttling can be used now (always, without REDIS_URL). */
    private readonly sharedThrottling: () => boolean,
    private readonly metrics: Metrics | undefined,
  ) {}

  /** The app's own client (JWT) without an id; an installation's with one. */
  async auth(installationId?: number): Promise<GitHub> {
    const gh = this.sharedThrottling() ? await this.probot().auth(installationId) : await this.local(installationId);
    return instrumentClient(gh, installationId ? String(installationId) : "app", this.metrics);
  }

  /** A webhook's client (Probot made it for the event), or a local one while Redis is down (then asynchronously). */
  forEvent(octokit: unknown, installationId: number | undefined): GitHub | Promise<GitHub> {
    if (!this.sharedThrottling() && installationId) return this.auth(installationId);
    return instrumentClient(octokit, installationId ? String(installationId) : "app", this.metrics);
  }

  /** As Probot's own getAuthenticatedOctokit does it, with throttling options of this process. */
  private async local(installationId: number | undefined): Promise<unknown> {
    const app = (await this.probot().auth()) as unknown as { constructor: new (options: object) => unknown; auth(options: object): Promise<unknown> };
    const throttle = (id: string) => ({ ...this.localGroups, id, connection: undefined, Bottleneck: undefined });
    const Octokit = app.constructor;
    if (!installationId) return new Octokit({ throttle: throttle("app") });
    return app.auth({
      type: "installation",
      installationId,
      factory: ({ octokitOptions, octokit: _octokit, ...otherOptions }: { octokitOptions: { auth?: object; throttle?: object }; octokit: unknown }) =>
        new Octokit({
          ...octokitOptions,
          throttle: { ...octokitOptions.throttle, ...throttle(String(installationId)) },
          auth: { ...octokitOptions.auth, otherOptions, installationId },
        }),
    });
  }
}

/** The limits @octokit/plugin-throttling sets for its groups, kept in this process. */
function localThrottleGroups() {
  const timeout = 2 * 60_000;
  return {
    global: new Bottleneck.Group({ id: "octokit-global", maxConcurrent: 10, timeout }),
    auth: new Bottleneck.Group({ id: "octokit-auth", maxConcurrent: 1, timeout }),
    search: new Bottleneck.Group({ id: "octokit-search", maxConcurrent: 1, minTime: 2_000, timeout }),
    write: new Bottleneck.Group({ id: "octokit-write", maxConcurrent: 1, minTime: 1_000, timeout }),
    notifications: new Bottleneck.Group({ id: "octokit-notifications", maxConcurrent: 1, minTime: 3_000, timeout }),
  };
}
