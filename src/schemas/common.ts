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
/**
 * The server's own settings that share the JIT_ prefix (docs/reference/configuration.md): the
 * policy may not name them (EnvName), and providers and notifications are built from an
 * environment without the secret ones (`policyEnvironment`), so an approved policy change cannot
 * hand the Slack app's signing secret or token key to a command or a URL it chooses.
 */
export const SERVER_OWN_VARIABLES: readonly string[] = [
  "JIT_SLACK_BOT_TOKEN", "JIT_SLACK_SIGNING_SECRET", "JIT_SLACK_TOKEN_KEY", "JIT_SLACK_LINK_MAX_AGE", "JIT_SLACK_STATE_FILE", "JIT_PUBLIC_URL",
  "JIT_ACCESS_REPOSITORIES", "JIT_TRUSTED_POLICY_SHAS", "JIT_EXEC_COMMANDS", "JIT_APP_ID", "JIT_APP_SLUG",
];

export const EnvName = Type.String({
  pattern: `^(?!(?:${SERVER_OWN_VARIABLES.join("|")})$)JIT_[A-Z0-9_]{1,100}$`,
  description: "the name of an environment variable starting with JIT_ (then A-Z, 0-9, _), and not one of the server's own settings (the Slack app's JIT_SLACK_BOT_TOKEN, JIT_SLACK_SIGNING_SECRET, JIT_SLACK_TOKEN_KEY, …, JIT_PUBLIC_URL, JIT_EXEC_COMMANDS, JIT_ACCESS_REPOSITORIES, JIT_TRUSTED_POLICY_SHAS): the policy may only name variables set aside for it",
});

/**
 * The environment the policy's providers and notifications are built from: the server's own
 * settings left out (but JIT_EXEC_COMMANDS: the exec provider reads its allow-list there, and the
 * policy cannot name it).
 */
export function policyEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => name === "JIT_EXEC_COMMANDS" || !SERVER_OWN_VARIABLES.includes(name)));
}
