import { isNotFound, type GitHub } from "./client.js";

/**
 * A team's active members, when the team fits in one page of GitHub's member list: the answer to
 * every "is X a member of @org/team?" the rules ask about it, in one request. The list is read
 * through the app's conditional reads, so once it has been read, reading it again costs a 304
 * (not counted against the rate limit) until the team changes; a 404 of the per-person lookup
 * can never be answered that way, and non-members are most of what an evaluation asks about
 * (every reviewer is checked against every group).
 *
 * GitHub lists active members only (a pending invitation is not one) and includes the members
 * of child teams, as the per-person membership does. A team larger than a page answers nothing
 * here (`"large"`): its questions are asked one person at a time, which for a big team is cheaper
 * than reading all its pages.
 */
export type TeamMembers = ReadonlySet<string> | "large";

/** GitHub's largest page of members. */
export const MEMBERS_PAGE = 100;

/** `@org/team`'s members (logins, lower case), `"large"` past one page; an unknown team has none. */
export async function readTeamMembers(gh: GitHub, team: string): Promise<TeamMembers> {
  const page = await readTeamPage(gh, team);
  if (page === null) return new Set(); // no such team (or not visible to the app): nobody is in it
  return page.more ? "large" : new Set(page.logins);
}

/**
 * The first page of `@org/team`'s members (logins, lower case) and whether GitHub has more; null
 * when GitHub knows no such team. The access plan reads it too (plan-inputs.ts), with its own
 * reading of a missing team (unknown, not empty).
 */
export async function readTeamPage(gh: GitHub, team: string): Promise<{ logins: string[]; more: boolean } | null> {
  const [org, slug] = team.replace(/^@/, "").split("/") as [string, string];
  try {
    const { data, headers } = await gh.rest.teams.listMembersInOrg({ org, team_slug: slug, per_page: MEMBERS_PAGE });
    return { logins: data.map((m) => m.login.toLowerCase()), more: /rel="next"/.test(headers.link ?? "") };
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** `@org/team`: one person's membership, active only (a pending invitation or a 404 is not membership). */
export async function isActiveMember(gh: GitHub, team: string, login: string): Promise<boolean> {
  const [org, slug] = team.replace(/^@/, "").split("/") as [string, string];
  try {
    const { data } = await gh.rest.teams.getMembershipForUserInOrg({ org, team_slug: slug, username: login });
    return data.state === "active";
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
