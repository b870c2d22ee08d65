import { Type } from "@sinclair/typebox";
import type { GitHub } from "../github/client.js";
import { isNotFound } from "../github/client.js";
import { Login } from "../schemas/common.js";
import { ProviderError, type GrantTarget, type Provider, type ProviderDefinition } from "./types.js";

const TeamSlug = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", description: "a team slug" });

/** The provider as the table lists it; it acts through the installation's client. */
export const githubTeam = {
  name: "github-team" as const,
  description: "membership of one GitHub team",
  config: Type.Object({ org: Login, team: TeamSlug }, { additionalProperties: false }),
  grant: Type.Object({}, { additionalProperties: false }),
  create: ({ gh }) => githubTeamProvider(gh),
} satisfies ProviderDefinition;

/**
 * `github-team`: membership of one team. The installation needs the organization's
 * "members: write" permission. A pending invitation is not access, so `held` counts an active
 * membership — and any maintainer role, active or invited: a maintainer before the grant stays a
 * maintainer during and after it (PRODUCT.md §6). `apply` reads the membership first, because
 * the only write GitHub offers (PUT with a role) would turn a maintainer into a member.
 */
export function githubTeamProvider(gh: GitHub): Provider {
  const where = (t: GrantTarget) => ({ org: String(t.config.org), team_slug: String(t.config.team), username: t.requester });
  const unit = (t: GrantTarget) => `github-team:${String(t.config.org)}/${String(t.config.team)}:${t.requester}`.toLowerCase();
  const fail = (t: GrantTarget, what: string, error: unknown): never => {
    const status = (error as { status?: number }).status;
    throw new ProviderError(`${what} ${t.requester} in ${String(t.config.org)}/${String(t.config.team)} failed: ${(error as Error).message}`, status === undefined || status >= 500 || status === 429);
  };
  /** The membership as GitHub has it now; null when there is none. */
  const membership = async (t: GrantTarget): Promise<{ state: string; role: string } | null> => {
    try {
      const { data } = await gh.rest.teams.getMembershipForUserInOrg(where(t));
      return { state: data.state, role: data.role };
    } catch (error) {
      if (isNotFound(error)) return null;
      return fail(t, "reading the membership of", error);
    }
  };
  return {
    units: (t) => [unit(t)],
    async held(t) {
      const m = await membership(t);
      return m && (m.state === "active" || m.role === "maintainer") ? [unit(t)] : [];
    },
    async apply(t) {
      const m = await membership(t);
      // Already a maintainer (never demote), or already an active member: nothing to add.
      if (m && (m.role === "maintainer" || m.state === "active")) return;
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
