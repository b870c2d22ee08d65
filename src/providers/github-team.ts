import type { GitHub } from "../github/client.js";
import { isNotFound } from "../github/client.js";
import { ProviderError, type GrantTarget, type Provider } from "./types.js";

/**
 * `github-team`: membership of one team. The installation needs the organization's
 * "members: write" permission. A pending invitation is not access, so `held` counts only
 * an active membership.
 */
export function githubTeamProvider(gh: GitHub): Provider {
  const where = (t: GrantTarget) => ({ org: String(t.config.org), team_slug: String(t.config.team), username: t.requester });
  const unit = (t: GrantTarget) => `github-team:${String(t.config.org)}/${String(t.config.team)}:${t.requester}`.toLowerCase();
  const fail = (t: GrantTarget, what: string, error: unknown): never => {
    const status = (error as { status?: number }).status;
    throw new ProviderError(`${what} ${t.requester} in ${String(t.config.org)}/${String(t.config.team)} failed: ${(error as Error).message}`, status === undefined || status >= 500 || status === 429);
  };
  return {
    units: (t) => [unit(t)],
    async held(t) {
      try {
        const { data } = await gh.rest.teams.getMembershipForUserInOrg(where(t));
        return data.state === "active" ? [unit(t)] : [];
      } catch (error) {
        if (isNotFound(error)) return [];
        return fail(t, "reading the membership of", error);
      }
    },
    async apply(t) {
      try {
        await gh.rest.teams.addOrUpdateMembershipForUserInOrg({ ...where(t), role: "member" });
      } catch (error) {
        fail(t, "adding", error);
      }
    },
    async revoke(t, units) {
      if (!units.includes(unit(t))) return;
      try {
        await gh.rest.teams.removeMembershipForUserInOrg(where(t));
      } catch (error) {
        if (isNotFound(error)) return; // already gone: revoking is idempotent
        fail(t, "removing", error);
      }
    },
    describe: (t) => `membership of ${t.requester} in the GitHub team ${String(t.config.org)}/${String(t.config.team)}`,
  };
}
