import { describe, expect, it } from "@jest/globals";
import { Octokit } from "@octokit/rest";
import { githubTeamProvider } from "../../src/providers/github-team.js";
import { unitsToRevoke, type GrantTarget } from "../../src/providers/types.js";
import { githubApi } from "../helpers/github-mock.js";
import { guardNetwork } from "../helpers/setup-nock.js";

guardNetwork();
const quiet = () => {};
const gh = new Octokit({ auth: "ghs_test", log: { debug: quiet, info: quiet, warn: quiet, error: quiet } });
const target = (id: string): GrantTarget => ({
  id,
  requester: "alice",
  resource: "prod-admins",
  role: "member",
  provider: "github-team",
  config: { org: "acme", team: "prod-admins" },
  grant: {},
  startsAt: "2026-11-29T13:00:00Z",
  expiresAt: "2026-11-29T21:00:00Z",
  pullRequest: "https://github.com/acme/access/pull/7",
});
const M = "/orgs/acme/teams/prod-admins/memberships/alice";
const MEMBERS = "/orgs/acme/teams/prod-admins/members";
const ALICE_ID = 583231;
/** Alice's grant as recorded with her account id, so a rename cannot hide her. */
const byId = (id: string): GrantTarget => ({ ...target(id), requesterId: ALICE_ID });
/** A two-page member listing; the person, when `last` holds them, is on the second page. */
function listing(api: ReturnType<typeof githubApi>, last: { login: string; id: number }[]) {
  const next = `<https://api.github.com${MEMBERS}?role=all&per_page=100&page=2>; rel="next"`;
  api.get(MEMBERS).query({ role: "all", per_page: "100" }).reply(200, [{ login: "bob", id: 2 }], { link: next });
  api.get(MEMBERS).query({ role: "all", per_page: "100", page: "2" }).reply(200, last);
}

describe("the github-team provider", () => {
  it("adds the requester to the team, and removes them on revoke", async () => {
    const api = githubApi();
    api.get(M).reply(404, { message: "Not Found" }); // held: nothing standing
    api.get(M).reply(404, { message: "Not Found" }); // apply reads the membership before it writes
    api.put(M, { role: "member" }).reply(200, { state: "active", role: "member" });
    api.delete(M).reply(204);
    const p = githubTeamProvider(gh);
    const t = target("acme/access#1");
    const standing = await p.held(t);
    await p.apply(t);
    await p.revoke(t, unitsToRevoke(p, t, standing, []));
    api.done();
  });

  it("never removes a member who was in the team before the grant, and has nothing to add", async () => {
    const api = githubApi();
    api.get(M).reply(200, { state: "active", role: "member" });
    api.get(M).reply(200, { state: "active", role: "member" });
    const p = githubTeamProvider(gh);
    const t = target("acme/access#2");
    const standing = await p.held(t);
    await p.apply(t);
    expect(unitsToRevoke(p, t, standing, [])).toEqual([]);
    await p.revoke(t, unitsToRevoke(p, t, standing, []));
    api.done(); // no PUT and no DELETE were made
  });

  it("never demotes a maintainer: no PUT role=member over one, and no removal at the end", async () => {
    const api = githubApi();
    api.get(M).reply(200, { state: "active", role: "maintainer" }); // held
    api.get(M).reply(200, { state: "active", role: "maintainer" }); // apply
    const p = githubTeamProvider(gh);
    const t = target("acme/access#9");
    const standing = await p.held(t);
    expect(standing).toEqual(["github-team:acme/prod-admins:alice"]);
    await p.apply(t);
    await p.revoke(t, unitsToRevoke(p, t, standing, []));
    api.done(); // the maintainer was neither demoted nor removed
  });

  it("treats an invitation to be a maintainer as standing: not overwritten, not cancelled", async () => {
    const api = githubApi();
    api.get(M).reply(200, { state: "pending", role: "maintainer" });
    api.get(M).reply(200, { state: "pending", role: "maintainer" });
    const p = githubTeamProvider(gh);
    const t = target("acme/access#10");
    const standing = await p.held(t);
    expect(standing).toEqual(["github-team:acme/prod-admins:alice"]);
    await p.apply(t);
    expect(unitsToRevoke(p, t, standing, [])).toEqual([]);
    api.done();
  });

  it("does not count a pending invitation as standing membership", async () => {
    const api = githubApi();
    api.get(M).reply(200, { state: "pending", role: "member" });
    expect(await githubTeamProvider(gh).held(target("acme/access#3"))).toEqual([]);
    api.done();
  });

  it("keeps the membership while another live grant gives it, and treats an already-removed member as revoked", async () => {
    const api = githubApi();
    api.delete(M).reply(404, { message: "Not Found" });
    api.get(MEMBERS).query({ role: "all", per_page: "100" }).reply(200, [{ login: "bob", id: 2 }]); // the 404 is confirmed
    const p = githubTeamProvider(gh);
    const first = target("acme/access#4");
    const second = target("acme/access#5");
    expect(unitsToRevoke(p, first, [], [{ target: second, standing: [] }])).toEqual([]);
    await p.revoke(first, unitsToRevoke(p, first, [], []));
    api.done();
  });

  it("reports a refused call as a provider error (5xx retryable, 4xx not)", async () => {
    const api = githubApi();
    api.get(M).reply(404, { message: "Not Found" });
    api.put(M).reply(403, { message: "Resource not accessible by integration" });
    api.get(M).reply(404, { message: "Not Found" });
    api.put(M).reply(502, { message: "Bad gateway" });
    api.get(M).reply(503, { message: "Unavailable" });
    const p = githubTeamProvider(gh);
    await expect(p.apply(target("acme/access#6"))).rejects.toMatchObject({ retryable: false, message: expect.stringContaining("adding alice in acme/prod-admins failed: Resource not accessible by integration") });
    await expect(p.apply(target("acme/access#6"))).rejects.toMatchObject({ retryable: true });
    // Not knowing the role is no reason to write one: a failed read fails the apply.
    await expect(p.apply(target("acme/access#6"))).rejects.toMatchObject({ retryable: true, message: expect.stringContaining("reading the membership of alice in acme/prod-admins failed") });
    api.done();
  });

  describe("a removal answered 404 is confirmed before it counts as done", () => {
    it("a renamed requester: found by account id once the recorded login is unknown, and the renamed login's membership is removed", async () => {
      const api = githubApi();
      const renamed = "/orgs/acme/teams/prod-admins/memberships/alice-renamed";
      api.get(M).reply(404, { message: "Not Found" }); // held: the recorded login holds nothing (the safe side)
      api.get(M).reply(404, { message: "Not Found" }); // apply reads first
      api.put(M, { role: "member" }).reply(404, { message: "Not Found" }); // no such login any more
      api.get(`/user/${ALICE_ID}`).reply(200, { login: "alice-renamed", id: ALICE_ID });
      api.put(renamed, { role: "member" }).reply(200, { state: "active", role: "member" });
      api.delete(M).reply(404, { message: "Not Found" });
      api.get(`/user/${ALICE_ID}`).reply(200, { login: "alice-renamed", id: ALICE_ID });
      api.delete(renamed).reply(204);
      const p = githubTeamProvider(gh);
      const t = byId("acme/access#11");
      const standing = await p.held(t);
      await p.apply(t);
      await p.revoke(t, unitsToRevoke(p, t, standing, []));
      api.done();
    });

    it("renamed after the grant was recorded: the old login's 404 is not taken at its word", async () => {
      const api = githubApi();
      api.delete(M).reply(404, { message: "Not Found" });
      api.get(`/user/${ALICE_ID}`).reply(200, { login: "alice-renamed", id: ALICE_ID });
      api.delete("/orgs/acme/teams/prod-admins/memberships/alice-renamed").reply(204);
      await githubTeamProvider(gh).revoke(byId("acme/access#12"), ["github-team:acme/prod-admins:alice"]);
      api.done();
    });

    it("a 404 while the team still lists the person (by id, on a later page) is a retryable error, not done", async () => {
      const api = githubApi();
      api.get(`/user/${ALICE_ID}`).reply(200, { login: "alice", id: ALICE_ID });
      api.delete(M).reply(404, { message: "Not Found" });
      listing(api, [{ login: "alice-renamed", id: ALICE_ID }]);
      await expect(githubTeamProvider(gh).revoke(byId("acme/access#13"), ["github-team:acme/prod-admins:alice"])).rejects.toMatchObject({
        name: "ProviderError",
        retryable: true,
        message: 'removing alice from acme/prod-admins was answered "not found", but the team still lists them; trying again',
      });
      api.done();
    });

    it("without an account id, a 404 while the login is still listed is an error too", async () => {
      const api = githubApi();
      api.delete(M).reply(404, { message: "Not Found" });
      listing(api, [{ login: "Alice", id: 7 }]);
      await expect(githubTeamProvider(gh).revoke(target("acme/access#14"), ["github-team:acme/prod-admins:alice"])).rejects.toMatchObject({ retryable: true });
      api.done();
    });

    it("a 404 that every page of the listing confirms is done", async () => {
      const api = githubApi();
      api.get(`/user/${ALICE_ID}`).reply(200, { login: "alice", id: ALICE_ID });
      api.delete(M).reply(404, { message: "Not Found" });
      listing(api, [{ login: "carol", id: 3 }]);
      await githubTeamProvider(gh).revoke(byId("acme/access#15"), ["github-team:acme/prod-admins:alice"]);
      api.done();
    });

    it("a listing that fails leaves the revoke undone (retryable), and a deleted account is confirmed by id", async () => {
      const api = githubApi();
      api.delete(M).reply(404, { message: "Not Found" });
      api.get(MEMBERS).query({ role: "all", per_page: "100" }).reply(502, { message: "Bad gateway" });
      await expect(githubTeamProvider(gh).revoke(target("acme/access#16"), ["github-team:acme/prod-admins:alice"])).rejects.toMatchObject({
        retryable: true,
        message: expect.stringContaining("confirming the removal of alice in acme/prod-admins failed"),
      });
      api.delete(M).reply(404, { message: "Not Found" });
      api.get(`/user/${ALICE_ID}`).reply(404, { message: "Not Found" });
      listing(api, [{ login: "carol", id: 3 }]);
      await githubTeamProvider(gh).revoke(byId("acme/access#17"), ["github-team:acme/prod-admins:alice"]);
      api.done();
    });
  });
});
