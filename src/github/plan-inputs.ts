import { parseDuration } from "../grant/duration.js";
import { ownersOf, type Codeowners } from "../policy/codeowners.js";
import type { LoadedPolicy } from "../policy/load.js";
import { POLICY_PATH } from "../policy/paths.js";
import { grantPathOf } from "../plan/plan.js";
import type { AccessPlan, Directory, PlannedGrant } from "../plan/types.js";
import type { GitHub, RepoRef } from "./client.js";
import { grantFilesOn, mayHoldAccess, originsOf, recordOf } from "./live-grants.js";
import { MEMBERS_PAGE, readTeamPage } from "./team-members.js";

/**
 * What the access plan of a policy change reads besides the policies and CODEOWNERS, each only
 * when the plan (first computed without it) could use it, so a plain change costs no request:
 * - the members of the teams its widening or narrowing entries add or remove (one page each; a
 *   larger team, or one the token may not read, stays unknown and the plan names no people for it);
 * - the grants holding access now, when it narrows something (only a narrowing can disallow one).
 */

/** Teams read for one plan at most: a plan naming more shows the rest without people. */
export const MAX_DIRECTORY_TEAMS = 10;
/** Grant files on the default branch looked at for live grants at most (about three requests each). */
export const MAX_PLANNED_GRANT_FILES = 30;

const LISTS = new Set(["requesters", "admins", "auto_approve", "break_glass.approvers", "approvers"]);

/**
 * The teams whose members a plan's entries would name: those added or removed first, then the
 * others of the same lists (who was covered already), as far as the bound allows.
 */
export function teamsToRead(draft: AccessPlan, policies: readonly (LoadedPolicy | undefined)[], codeowners: readonly (Codeowners | null | undefined)[]): string[] {
  const lists = draft.changes.filter((c) => c.effect !== "neutral" && LISTS.has(c.field));
  if (lists.length === 0) return [];
  const named = lists.flatMap((c) => [c.before, c.after]);
  const sameLists = lists.flatMap((c) =>
    policies.flatMap((p) => {
      if (!p) return [];
      if (c.field === "requesters") return p.requesters ?? [];
      if (c.field === "admins") return p.admins;
      if (c.field === "break_glass.approvers") return p.breakGlass?.approvers ?? [];
      if (c.field === "auto_approve" && c.resource && c.role) return p.role(c.resource, c.role)?.autoApprove ?? [];
      if (c.field === "approvers") return codeowners.flatMap((o) => (o ? ownersOf(o, c.resource ? grantPathOf(c.resource) : POLICY_PATH).owners : []));
      return [];
    }),
  );
  const teams = [...named, ...sameLists].map((g) => g.toLowerCase()).filter((g) => /^@[^/]+\/[^/]+$/.test(g));
  return [...new Set(teams)].slice(0, MAX_DIRECTORY_TEAMS);
}

export async function readDirectory(gh: GitHub, teams: readonly string[]): Promise<Directory> {
  const directory = new Map<string, string[]>();
  for (const team of teams) {
    try {
      const page = await readTeamPage(gh, team);
      if (page && page.logins.length < MEMBERS_PAGE) directory.set(team.toLowerCase(), page.logins);
    } catch (error) {
      if ((error as { status?: number }).status !== 403) throw error; // no permission: unknown, as a team GitHub does not know
    }
  }
  return directory;
}

/** Grants holding access now (their records say applied, their windows are open), or undefined when there are too many files to look at. */
export async function readLiveGrants(gh: GitHub, ref: RepoRef & { repoId: number }, q: { defaultBranch: string; appId: number; now: Date }): Promise<PlannedGrant[] | undefined> {
  const { files } = await grantFilesOn(gh, ref, q.defaultBranch);
  if (files.length > MAX_PLANNED_GRANT_FILES) return undefined;
  const grants: PlannedGrant[] = [];
  for (const file of files) {
    for (const origin of await originsOf(gh, ref, q.defaultBranch, file)) {
      const state = await recordOf(gh, { ...ref, number: origin.number }, origin.headSha, q.appId);
      if (!mayHoldAccess(state) || !(Date.parse(state.expires_at ?? "") > q.now.getTime())) continue;
      const grant = state.grant!;
      grants.push({ number: origin.number, resource: grant.resource, role: grant.role, requester: grant.requester, durationMs: parseDuration(grant.duration) ?? 0, ...(grant.emergency ? { emergency: true } : {}) });
    }
  }
  return grants;
}
