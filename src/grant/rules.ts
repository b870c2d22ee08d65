import type { Diagnostic } from "../diagnostics.js";
import type { EffectiveRole, LoadedPolicy } from "../policy/load.js";
import { parseGrantPath } from "../policy/paths.js";
import { formatDuration, parseDuration } from "./duration.js";
import type { ParsedGrant } from "./parse.js";
import { parseTimestamp } from "./timestamp.js";

/**
 * Facts about the request that come from GitHub rather than the file. Each is optional so
 * that `jit validate` can run the same rules offline; the app always supplies them.
 */
export interface RequestFacts {
  /** The PR author's login. */
  author?: string;
  /** When the request was made (the PR's creation); `start` may not be earlier. */
  requestedAt: Date;
  /** Whether the requester is in the policy's `requesters` allow-list; undefined when unknown (offline). */
  requesterAllowed?: boolean;
}

/** Allowed clock skew between a requester's machine and GitHub for `start`. */
const START_SKEW_MS = 5 * 60_000;

/** The policy rules beyond the schema. Returns the effective role when the grant names one. */
export function checkGrantRules(
  parsed: ParsedGrant,
  policy: LoadedPolicy,
  facts: RequestFacts,
): { diagnostics: Diagnostic[]; role: EffectiveRole | undefined } {
  const { grant, path, locate } = parsed;
  const out: Diagnostic[] = [];
  const at = (key: string, message: string) => out.push({ path, message, ...locate.value([key]) });

  const location = parseGrantPath(path);
  if (!location) {
    out.push({ path, message: "a grant file must be grants/<resource>/<name>.yaml", ...locate.value([]) });
  } else if (location.resource !== grant.resource) {
    at("resource", `resource "${grant.resource}" does not match the folder grants/${location.resource}/`);
  }

  if (facts.author !== undefined && grant.requester.toLowerCase() !== facts.author.toLowerCase()) {
    at("requester", `requester "${grant.requester}" is not the pull request's author (${facts.author}); request access for yourself`);
  }
  if (facts.requesterAllowed === false) {
    at("requester", `${grant.requester} is not allowed to request access (policy requesters: ${policy.requesters!.join(", ")})`);
  }

  const resource = policy.resource(grant.resource);
  const role = resource ? policy.role(grant.resource, grant.role) : undefined;
  if (!resource) {
    at("resource", `unknown resource "${grant.resource}"; the policy has: ${Object.keys(policy.raw.resources).join(", ")}`);
  } else if (!role) {
    at("role", `unknown role "${grant.role}" for ${grant.resource}; it has: ${Object.keys(resource.roles).join(", ")}`);
  }

  const duration = parseDuration(grant.duration)!;
  if (duration <= 0) at("duration", "duration must be longer than 0m");
  if (role && duration > role.maxDurationMs) {
    at("duration", `duration ${grant.duration} is longer than ${formatDuration(role.maxDurationMs)}, the most ${grant.resource}/${grant.role} allows`);
  }

  if (role) {
    const reason = grant.reason.trim();
    if (reason.length < role.reasonMinLength) {
      at("reason", `reason must be at least ${role.reasonMinLength} characters (it has ${reason.length}); say what you will do and why`);
    }
    if (role.ticketPattern) {
      if (grant.ticket === undefined) {
        out.push({ path, message: `a ticket matching ${role.ticketPattern.source} is required for ${grant.resource}/${grant.role}`, ...locate.value([]) });
      } else {
        // Linear in the ticket whatever the pattern (RE2, see policy/ticket-pattern.ts).
        if (!role.ticketPattern.test(grant.ticket)) at("ticket", `ticket "${grant.ticket}" does not match ${role.ticketPattern.source}`);
      }
    }
  }

  if (grant.start !== undefined) {
    // The schema admits only what parseTimestamp reads; a time that is not a number never gets further.
    const start = parseTimestamp(grant.start);
    if (start === undefined) at("start", `start ${grant.start} is not a time jit-access can read; write it like 2026-11-29T14:00:00Z`);
    else if (start < facts.requestedAt.getTime() - START_SKEW_MS) {
      at("start", `start ${grant.start} is before the request was made (${facts.requestedAt.toISOString()})`);
    }
  }

  if (grant.emergency) {
    if (!policy.breakGlass) {
      at("emergency", "this policy has no break_glass section, so emergency requests are not possible");
    } else if (duration > policy.breakGlass.maxDurationMs) {
      at("duration", `an emergency grant may last at most ${formatDuration(policy.breakGlass.maxDurationMs)} (break_glass.max_duration)`);
    }
  }
  return { diagnostics: out, role };
}
