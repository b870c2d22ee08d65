import type { GitHub } from "../github/client.js";
import { githubTeamProvider } from "./github-team.js";
import { postgresProvider } from "./postgres.js";
import type { Env, Provider } from "./types.js";
import { webhookProvider, type WebhookOptions } from "./webhook.js";

/** Providers by the names the policy uses. github-team acts through the installation's client. */
export type ProviderFactory = (name: string, gh: GitHub) => Provider | undefined;

export function providerFactory(env: Env, webhook?: WebhookOptions): ProviderFactory {
  const postgres = postgresProvider(env);
  const hook = webhookProvider(env, webhook);
  return (name, gh) => {
    if (name === "postgres") return postgres;
    if (name === "webhook") return hook;
    if (name === "github-team") return githubTeamProvider(gh);
    return undefined;
  };
}
