import { Type, type Static } from "@sinclair/typebox";
import { PROVIDER_NAMES } from "../providers/table.js";
import { Duration, EnvName, Name, Owner } from "./common.js";

/** Settings every role inherits from `defaults` and may set itself. */
const settings = {
  max_duration: Type.Optional({ ...Duration, title: "the longest duration a grant may ask for" }),
  reason_min_length: Type.Optional(Type.Integer({ minimum: 0, maximum: 2000, description: "a whole number from 0 to 2000" })),
  pending_timeout: Type.Optional({ ...Duration, title: "how long an undecided request stays open" }),
  expiry_warning: Type.Optional({ ...Duration, title: "how long before expiry the requester is warned" }),
  merge: Type.Optional(Type.Union([Type.Literal("auto"), Type.Literal("manual")], { description: "auto or manual" })),
  approvals: Type.Optional(
    Type.Object(
      {
        min_per_group: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, description: "a whole number from 1 to 20" })),
        mode: Type.Optional(Type.Union([Type.Literal("all"), Type.Literal("any")], { description: "all or any" })),
      },
      { additionalProperties: false },
    ),
  ),
  ticket_pattern: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: "a regular expression in RE2 syntax (no lookarounds or backreferences), matched in linear time" })),
  auto_approve: Type.Optional(Type.Array(Owner, { maxItems: 100, description: "a list of teams or users" })),
  approve_in_chat: Type.Optional(Type.Boolean({ description: "true or false: whether Approve and Reject buttons in the Slack message may decide (default true)" })),
};

export const RoleSchema = Type.Object(
  {
    ...settings,
    grant: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: "provider-specific settings of what the role grants" }),
    ),
  },
  { additionalProperties: false },
);

/** The Slack app's channel for one request message per request (its token and signing secret come from the environment). */
export const SlackAppSchema = Type.Object(
  { channel: Type.String({ minLength: 1, maxLength: 80, pattern: "^[A-Za-z0-9_#-]+$", description: "a Slack channel id (C0123ABCD) or name" }) },
  { additionalProperties: false },
);

/** Where notifications go: incoming-webhook URLs, named as environment variables (they are secrets), and the Slack app's channel. */
export const NotificationsSchema = Type.Object(
  { slack_webhook_env: Type.Optional(EnvName), teams_webhook_env: Type.Optional(EnvName), slack: Type.Optional(SlackAppSchema) },
  { additionalProperties: false },
);

export const ResourceSchema = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 500 })),
    notifications: Type.Optional({ ...NotificationsSchema, title: "this resource's own destinations, instead of the policy's" }),
    provider: Type.String({ minLength: 1, maxLength: 64, description: `the provider that applies grants (${PROVIDER_NAMES.join(", ")})` }),
    config: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: "provider-specific settings of the target; secrets only as environment variable names" }),
    ),
    roles: Type.Record(Name, RoleSchema, { minProperties: 1, description: "a mapping of role names to roles" }),
  },
  { additionalProperties: false },
);

/** How changes to the policy itself are approved (docs/guide/access-plan.md). */
export const ChangesSchema = Type.Object(
  {
    widening_requires: Type.Optional(
      Type.Array(Owner, {
        minItems: 1,
        maxItems: 20,
        title: "groups whose approval a change that widens access needs, besides the policy's owners",
        description: "a non-empty list of teams or users",
      }),
    ),
  },
  { additionalProperties: false },
);

export const PolicySchema = Type.Object(
  {
    version: Type.Literal(1, { description: "1" }),
    defaults: Type.Optional(Type.Object(settings, { additionalProperties: false })),
    requesters: Type.Optional(Type.Array(Owner, { maxItems: 100, description: "a list of teams or users allowed to request" })),
    admins: Type.Optional(Type.Array(Owner, { maxItems: 100, description: "a list of teams or users who may revoke any grant" })),
    resources: Type.Record(Name, ResourceSchema, { minProperties: 1, description: "a mapping of resource names to resources" }),
    break_glass: Type.Optional(
      Type.Object(
        {
          approvers: Type.Array(Owner, { minItems: 1, maxItems: 100, description: "a non-empty list of teams or users" }),
          max_duration: Duration,
          approve_in_chat: Type.Optional(Type.Boolean({ description: "true or false: whether break-glass requests may be decided from Slack (default false)" })),
        },
        { additionalProperties: false },
      ),
    ),
    notifications: Type.Optional(NotificationsSchema),
    changes: Type.Optional(ChangesSchema),
  },
  {
    $id: "urn:jit-access:schema:policy",
    title: "jit-access policy (.github/jit-access.yml)",
    additionalProperties: false,
  },
);

export type Policy = Static<typeof PolicySchema>;
export type Resource = Static<typeof ResourceSchema>;
export type Role = Static<typeof RoleSchema>;
export type RoleSettings = Omit<Role, "grant">;
export type Notifications = Static<typeof NotificationsSchema>;
