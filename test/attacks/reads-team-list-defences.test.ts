import { beforeEach, describe, expect, it } from "@jest/globals";
import { Octokit } from "@octokit/rest";
import { settleVetoes } from "../../src/approval/evaluate.js";
import { resetJudgingFileCache, resolveMemberships } from "../../src/github/snapshot.js";
import { membershipKey, type RequestSnapshot } from "../../src/lifecycle/snapshot.js";
import { githubApi } from "../helpers/github-mock.js";
import { guardNetwork } from "../helpers/setup-nock.js";

/**
 * reads-3: what holds in the member lists of commit 4be8349 (github/team-members.ts), pinned where a
 * veto depends on it. An owner's change request is a veto only if the list answers "member":
 * - GitHub lists logins as their owners spelled them ("Bob"); the rules ask in lower case. The list
 *   is lowercased when read: without that, every owner with a capital in their login would be
 *   "not a member", and their change request ignored.
 * - A list with a next page is not taken for the whole team: the people not on its first page are
 *   asked one by one. Without that, an owner listed on page 2 would be "not a member".
 */
guardNetwork();
const quiet = () => undefined;
const gh = new Octokit({ auth: "ghs_test", log: { debug: quiet, info: quiet, warn: quiet, error: quiet } });
beforeEach(() => resetJudgingFileCache()); // forgets the teams remembered as larger than a page

const DBA = "@acme/dba";

/** Who of `vetoers` the app finds in @acme/dba, answering memberships as evaluations do. */
async function standingVetoes(vetoers: string[]): Promise<string[]> {
  const snapshot = { memberships: new Map() } as unknown as RequestSnapshot;
  await resolveMemberships(gh, snapshot, (lookup) => settleVetoes([DBA], vetoers, lookup));
  return settleVetoes([DBA], vetoers, (team, login) => snapshot.memberships.get(membershipKey(team, login))).by;
}

describe("reads-3: an owner's change request, judged from their team's member list", () => {
  it("an owner GitHub lists as 'Bob' vetoes (the list is compared in lower case)", async () => {
    const api = githubApi();
    api.get("/orgs/acme/teams/dba/members").query({ per_page: 100 }).reply(200, [{ login: "Bob", id: 7_001, type: "User" }, { login: "carol", id: 7_002, type: "User" }]);
    expect(await standingVetoes(["Bob"])).toEqual(["Bob"]);
    api.done();
  });

  it("an owner past the list's first page vetoes (a team with a next page is asked person by person)", async () => {
    const api = githubApi();
    const next = `<https://api.github.com/organizations/1/team/2/members?per_page=100&page=2>; rel="next"`;
    const firstPage = Array.from({ length: 100 }, (_, i) => ({ login: `dba-${i}`, id: 8_000 + i, type: "User" }));
    api.get("/orgs/acme/teams/dba/members").query({ per_page: 100 }).reply(200, firstPage, { link: next });
    api.get("/orgs/acme/teams/dba/memberships/erin").reply(200, { url: "", role: "member", state: "active" });
    expect(await standingVetoes(["erin"])).toEqual(["erin"]);
    api.done();
  });
});
