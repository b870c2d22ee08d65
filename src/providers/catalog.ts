import { Type, type TSchema } from "@sinclair/typebox";
import { EnvName, Login } from "../schemas/common.js";

/**
 * What each provider accepts in the policy: the resource's `config` and a role's `grant`.
 * The policy schema leaves both open; these schemas close them per provider, so a typo in
 * a provider setting fails the policy check at its line like any other error.
 */
export interface ProviderSpec {
  config: TSchema;
  grant: TSchema;
}

const PgIdentifier = Type.String({ minLength: 1, maxLength: 63, description: "a PostgreSQL role name (1 to 63 characters)" });
const TeamSlug = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", description: "a team slug" });

export const PROVIDERS: Record<string, ProviderSpec> = {
  "github-team": {
    config: Type.Object({ org: Login, team: TeamSlug }, { additionalProperties: false }),
    grant: Type.Object({}, { additionalProperties: false }),
  },
  postgres: {
    config: Type.Object(
      {
        url_env: { ...EnvName, title: "the name of the environment variable holding the connection URL" },
        users: Type.Optional(Type.Record(Login, PgIdentifier, { description: "a mapping of GitHub logins to PostgreSQL roles" })),
      },
      { additionalProperties: false },
    ),
    grant: Type.Object(
      { roles: Type.Array(PgIdentifier, { minItems: 1, maxItems: 50, description: "a non-empty list of PostgreSQL roles" }) },
      { additionalProperties: false },
    ),
  },
  webhook: {
    config: Type.Object(
      {
        url_env: { ...EnvName, title: "the name of the environment variable holding the receiver's URL" },
        secret_env: { ...EnvName, title: "the name of the environment variable holding the signing secret" },
      },
      { additionalProperties: false },
    ),
    // Passed through to the receiver as `grant` in the event: whatever the receiver understands.
    grant: Type.Record(Type.String({ pattern: "^[A-Za-z0-9_.-]{1,64}$" }), Type.Unknown(), { description: "settings for the receiver" }),
  },
};

export const PROVIDER_NAMES = Object.keys(PROVIDERS);
