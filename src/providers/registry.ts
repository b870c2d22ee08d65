import type { GitHub } from "../github/client.js";
import { providerDefinition } from "./table.js";
import type { Env, Provider } from "./types.js";
import type { WebhookOptions } from "./webhook.js";

/** Providers by the names the policy uses. github-team acts through the installation's client. */
export type ProviderFactory = (name: string, gh: GitHub) => Provider | undefined;

/** Builds providers from the table in table.ts, the same one the policy is checked against. */
export function providerFactory(env: Env, webhook?: WebhookOptions): ProviderFactory {
  // Providers are cheap, stateless closures: building one per call keeps every name on one path.
  return (name, gh) => providerDefinition(name)?.create({ env, gh, webhook });
}
