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
  docs: {
    changes: "adds the requester to the team as a member (never demoting a maintainer); revoking removes the membership",
    expiresAtTarget: "nothing: the membership stays until jit-access removes it",
    verifiedAgainst: { kind: "mocked API", how: "nock with GitHub's recorded route table, and an in-memory stateful GitHub (testkit/fake-github.ts)" },
  },
  config: Type.Object({ org: Login, team: TeamSlug }, { additionalProperties: false }),
  grant: Type.Object({}, { additionalProperties: false }),
  create: ({ gh }) => githubTeamProvider(gh),
} satisfies ProviderDefinition;

/**
 * `github-team`: membership of one team. The installation needs the organization's
 * "members: write" permission. A pending invitation is not access, so `held` counts an active
 * membership — and any maintainer role, active or invited: a maintainer before the grant stays a
 * maintainer during and after it (docs/reference/provider-contract.md). `apply` reads the membership first, because
 * the only write GitHub offers (PUT with a role) would turn a maintainer into a member.
 *
 * The person is their account id when the target has one (`requesterId`): a requester who renames
 * their account during a grant is still the member to remove. The recorded login is tried first (no
 * extra request while it is current); a 404 on adding or removing looks the account up by id and
 * tries its login now. A 404 from the removal is not taken at its word either: the team's members
 * are listed, and the removal counts as done only when none of them is the person. `held` never
 * looks further than the recorded login: a renamed member then reads as not holding the team, and
 * is removed at the grant's end — the safe side.
 */
export function githubTeamProvider(gh: GitHub): Provider {
  const team = (t: GrantTarget) => ({ org: String(t.config.org), team_slug: String(t.config.team) });
  const where = (t: GrantTarget, login: string) => ({ ...team(t), username: login });
  const unit = (t: GrantTarget) => `github-team:${String(t.config.org)}/${String(t.config.team)}:${t.requester}`.toLowerCase();
  const fail = (t: GrantTarget, what: string, error: unknown): never => {
    const status = (error as { status?: number }).status;
    throw new ProviderError(`${what} ${t.requester} in ${String(t.config.org)}/${String(t.config.team)} failed: ${(error as Error).message}`, status === undefined || status >= 500 || status === 429);
  };
  /** The requester's login now, by account id (when known); null when that account no longer exists. */
  const currentLogin = async (t: GrantTarget): Promise<string | null> => {
    if (t.requesterId === undefined) return null;
    try {
      const { data } = await gh.rest.users.getById({ account_id: t.requesterId });
      return data.login;
    } catch (error) {
      if (isNotFound(error)) return null;
      return fail(t, `looking up the account #${t.requesterId} of`, error);
    }
  };
  /** The membership as GitHub has it now; null when there is none. */
  const membership = async (t: GrantTarget, login: string): Promise<{ state: string; role: string } | null> => {
    try {
      const { data } = await gh.rest.teams.getMembershipForUserInOrg(where(t, login));
      return { state: data.state, role: data.role };
    } catch (error) {
      if (isNotFound(error)) return null;
      return fail(t, "reading the membership of", error);
    }
  };
  /**
   * After a 404 from the removal: whether the team still lists the person (by id when known, else
   * by login), over every page and both roles. Only "no" lets the revoke count as done.
   */
  const stillListed = async (t: GrantTarget, login: string | null): Promise<boolean> => {
    try {
      const members = await gh.paginate(gh.rest.teams.listMembersInOrg, { ...team(t), role: "all", per_page: 100 });
      return members.some((m) =>
        t.requesterId !== undefined ? m.id === t.requesterId : m.login.toLowerCase() === (login ?? t.requester).toLowerCase(),
      );
    } catch (error) {
      // Unable to confirm is not done: a team the app cannot see may still hold the person.
      return fail(t, "confirming the removal of", error);
    }
  };
  return {
    units: (t) => [unit(t)],
    async held(t) {
      const m = await membership(t, t.requester);
      return m && (m.state === "active" || m.role === "maintainer") ? [unit(t)] : [];
    },
    async apply(t) {
      const m = await membership(t, t.requester);
      // Already a maintainer (never demote), or already an active member: nothing to add.
      if (m && (m.role === "maintainer" || m.state === "active")) return;
      const add = (login: string) => gh.rest.teams.addOrUpdateMembershipForUserInOrg({ ...where(t, login), role: "member" });
      try {
        await add(t.requester);
      } catch (error) {
        if (!isNotFound(error) || t.requesterId === undefined) return fail(t, "adding", error);
        // No such login any more: the account, by its id, under the login it has now.
        const login = await currentLogin(t);
        if (login === null) throw new ProviderError(`the GitHub account #${String(t.requesterId)} of ${t.requester} no longer exists`, false);
        try {
          await add(login);
        } catch (retry) {
          fail(t, "adding", retry);
        }
      }
    },
    async revoke(t, units) {
      if (!units.includes(unit(t))) return;
      const remove = async (login: string): Promise<boolean> => {
        try {
          await gh.rest.teams.removeMembershipForUserInOrg(where(t, login));
          return true;
        } catch (error) {
          if (!isNotFound(error)) fail(t, "removing", error);
          return false;
        }
      };
      if (await remove(t.requester)) return;
      // Not found under the recorded login: the account may have been renamed.
      const login = await currentLogin(t);
      if (login !== null && login.toLowerCase() !== t.requester.toLowerCase() && (await remove(login))) return;
      if (await stillListed(t, login)) {
        throw new ProviderError(
          `removing ${t.requester} from ${String(t.config.org)}/${String(t.config.team)} was answered "not found", but the team still lists them; trying again`,
          true,
        );
      }
      // Not found, and not listed: already gone. Revoking is idempotent.
    },
    describe: (t) => `membership of ${t.requester} in the GitHub team ${String(t.config.org)}/${String(t.config.team)}`,
  };
}
