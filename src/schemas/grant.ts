import { Type, type Static } from "@sinclair/typebox";
import { TIMESTAMP_PATTERN } from "../grant/timestamp.js";
import { Duration, Login, Name } from "./common.js";

/** The grant file, `grants/<resource>/<name>.yaml`: one request for time-boxed access. */
export const GrantSchema = Type.Object(
  {
    requester: { ...Login, title: "the GitHub login of the person who gets access (the PR author)" },
    resource: { ...Name, title: "a resource of the policy (the folder the file is in)" },
    role: { ...Name, title: "a role of that resource" },
    duration: Duration,
    reason: Type.String({ minLength: 1, maxLength: 2000, description: "why access is needed, in words" }),
    ticket: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "a ticket or incident reference" })),
    start: Type.Optional(
      // The format checks the calendar (no 30 February); the pattern refuses what `date-time`
      // lets through but RFC 3339 does not (`+01`, `+0100`, a tab, hour 24): see grant/timestamp.ts.
      Type.String({
        format: "date-time",
        pattern: TIMESTAMP_PATTERN,
        description: "an RFC 3339 date and time with a zone, such as 2026-11-29T14:00:00Z",
      }),
    ),
    emergency: Type.Optional(Type.Boolean({ description: "true or false: a break-glass request" })),
  },
  {
    $id: "urn:jit-access:schema:grant",
    title: "jit-access grant",
    additionalProperties: false,
  },
);

export type Grant = Static<typeof GrantSchema>;
