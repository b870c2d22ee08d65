import { awsIdentityCenter } from "./aws-identity-center.js";
import { exec } from "./exec.js";
import { githubTeam } from "./github-team.js";
import { kubernetes } from "./kubernetes.js";
import { mysqlDefinition } from "./mysql.js";
import { postgres } from "./postgres.js";
import type { ProviderDefinition } from "./types.js";
import { webhook } from "./webhook.js";

/**
 * Every provider, once. The policy check (which names exist, what their `config` and `grant`
 * accept) and the executor (`providerFactory`) both read this table and nothing else, so a name
 * cannot pass validation and then fail at apply. A new provider is a module exporting a
 * ProviderDefinition and one entry here.
 */
export const PROVIDERS = [githubTeam, postgres, webhook, mysqlDefinition, exec, awsIdentityCenter, kubernetes] as const satisfies readonly ProviderDefinition[];

export type ProviderName = (typeof PROVIDERS)[number]["name"];

export const PROVIDER_NAMES: readonly ProviderName[] = PROVIDERS.map((p) => p.name);

/** A Map, not an object: a policy's `provider: constructor` must find nothing, not Object's constructor. */
const BY_NAME: ReadonlyMap<string, ProviderDefinition> = new Map(PROVIDERS.map((p) => [p.name, p]));

export function providerDefinition(name: string): ProviderDefinition | undefined {
  return BY_NAME.get(name);
}
