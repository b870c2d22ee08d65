import { Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../grant/duration.js";

/**
 * Building blocks shared by the grant and policy schemas. Each `description` is written
 * as a noun phrase: validation messages read "must be <description>".
 */

export const Duration = Type.String({
  pattern: DURATION_PATTERN,
  description: "a duration such as 30m, 2h, 1h30m or 1d (units d, h, m in that order)",
});

/** GitHub logins: letters, digits and hyphens; Enterprise Managed Users add `_shortcode`. */
export const Login = Type.String({
  pattern: "^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,98}[A-Za-z0-9_])?$",
  description: "a GitHub login",
});

/** Resource and role names; resources double as folder names under grants/. */
export const Name = Type.String({
  pattern: "^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$",
  description: "a name of letters, digits, '.', '_' and '-' (at most 64, starting and ending with a letter or digit)",
});

/** `@org/team` or `@user`, as in CODEOWNERS. */
export const Owner = Type.String({
  pattern: "^@[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:/[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?)?$",
  description: "a team (@org/team) or a user (@login)",
});

/**
 * Secrets are never written in the policy, only the names of environment variables that hold them.
 * Only names starting with JIT_: whoever can change the policy must not reach the server's own
 * variables (`url_env: PRIVATE_KEY` would send the app's key to a URL the policy chooses).
 */
export const EnvName = Type.String({
  pattern: "^JIT_[A-Z0-9_]{1,100}$",
  description: "the name of an environment variable starting with JIT_ (then A-Z, 0-9, _): the policy may only name variables set aside for it",
});
