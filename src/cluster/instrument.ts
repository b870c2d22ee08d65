import type { GitHub } from "../github/client.js";
import { conditionalReads } from "../github/conditional.js";
import type { Metrics } from "../metrics.js";
import type { ProviderFactory } from "../providers/registry.js";
import { ProviderError, type Provider } from "../providers/types.js";
import { currentFence } from "./fence.js";
import type { ThrottleWatch } from "./throttle-watch.js";

type Fetch = typeof globalThis.fetch;
interface RequestOptions {
  method: string;
  request?: Record<string, unknown>;
}
const instrumented = new WeakSet<object>();

/**
 * Every request of `gh` reports GitHub's rate-limit headers, and every write made by a job is
 * fenced at the moment it is sent. The fence wraps `fetch` itself, not the request: with Probot's
 * cluster throttling a write may wait in the shared queue for seconds, and only the moment it
 * leaves counts. With `watch` (a client throttled through Redis), a request still waiting in that
 * queue when Redis becomes unusable is given up and never sent (see ThrottleWatch). Idempotent per
 * client. The wrap is added after Octokit's plugins, so it runs before their throttle.
 */
export function instrumentClient(octokit: unknown, installation: string, metrics: Metrics | undefined, watch?: ThrottleWatch): GitHub {
  const gh = octokit as GitHub & { hook: { wrap(name: "request", hook: (request: (options: RequestOptions) => Promise<unknown>, options: RequestOptions) => Promise<unknown>): void } };
  if (instrumented.has(gh)) return gh;
  instrumented.add(gh);
  conditionalReads(gh, installation);
  gh.hook.wrap("request", async (request, options) => {
    const fence = currentFence();
    const ticket = watch?.track();
    const write = options.method !== "GET" && options.method !== "HEAD";
    const send: Fetch = ((options.request ?? {}) as { fetch?: Fetch }).fetch ?? globalThis.fetch;
    const fetch: Fetch = async (input, init) => {
      ticket?.leave();
      try {
        if (fence && write) await fence.check("write");
        const response = await send(input, init);
        metrics?.observeRateLimit(installation, response.headers);
        return response;
      } finally {
        ticket?.back();
      }
    };
    // In place: before-after-hook hands every hook the same options object (a new one is ignored).
    const requestOptions: Record<string, unknown> = { ...options.request, fetch };
    options.request = requestOptions;
    // Given up, it is not retried either (plugin-retry reads `retries` from these options).
    void ticket?.givenUp.catch(() => (requestOptions.retries = 0));
    const made = request(options);
    try {
      return await (ticket ? Promise.race([made, ticket.givenUp]) : made);
    } finally {
      ticket?.end();
    }
  });
  return gh;
}

/**
 * Providers behind the fence, counted: an apply or revoke happens only while the job may act
 * (an apply only under a lock), failures are counted by provider, and a revoke of an expired grant
 * records its lag from `expires_at`.
 *
 * With replicas, an apply is also refused in the last `applyMarginMs` (the lock's TTL) of its
 * window: a straggling apply could otherwise land after the revoke that another replica makes once
 * the lock has expired. Refused, it is recorded as not applied, and the window ends with nothing
 * granted — fail closed, for a grant that had under 30 s left.
 */
export function guardedProviders(inner: ProviderFactory, metrics: Metrics | undefined, now: () => Date, applyMarginMs = 0): ProviderFactory {
  return (name, gh) => {
    const provider = inner(name, gh);
    if (!provider) return undefined;
    const counted = async <T>(call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (error) {
        metrics?.providerErrors.inc({ provider: name });
        throw error;
      }
    };
    const guarded: Provider = {
      units: (t) => provider.units(t),
      describe: (t) => provider.describe(t),
      held: (t) => counted(() => provider.held(t)),
      async apply(t) {
        if (applyMarginMs > 0 && Date.parse(t.expiresAt) - now().getTime() < applyMarginMs) {
          throw new ProviderError(`less than ${Math.round(applyMarginMs / 1000)} s of the window were left, too little to apply safely across replicas`, false);
        }
        await currentFence()?.check("apply");
        await counted(() => provider.apply(t));
      },
      async revoke(t, units) {
        await currentFence()?.check("revoke");
        await counted(() => provider.revoke(t, units));
        const lag = now().getTime() - Date.parse(t.expiresAt);
        if (lag >= 0) metrics?.expiryLag.observe(lag / 1000);
      },
    };
    return guarded;
  };
}

