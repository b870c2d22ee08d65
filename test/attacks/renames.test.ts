import { afterEach, describe, expect, it } from "@jest/globals";
import type { FakeRepo } from "../../testkit/fake-github.js";
import { Arena, TEAM } from "./harness.js";

/**
 * Attacks 2 and 3 of issue #17: a rename while a github-team grant is live — of the access
 * repository, or of the requester's login. Safe: the access is gone after the grant's end.
 *
 * The fake serves neither rename (no `PATCH /repos/{owner}/{repo}`, no user renames), so each is
 * modelled here, in a few lines, on the fake's state as GitHub behaves:
 * - a repository rename: the repository is known by its new name (webhooks, searches, the
 *   installation's list say so), and requests to the old name still reach it (GitHub redirects
 *   them: 301 for reads, 307 for writes) — modelled as the old name kept as an alias;
 * - a login rename: memberships and write access follow the account to its new login, and the
 *   old login no longer exists (GitHub keeps no redirect for users: the old name is a 404).
 */
let arena: Arena;
afterEach(() => arena?.stop());

function renameRepository(to: string): void {
  const repo = arena.repo;
  const from = repo.name;
  const installation = [...arena.fake.installations.values()].find((i) => i.repos.has(`${repo.owner}/${from}`))!;
  repo.name = to;
  arena.fake.repos.set(`${repo.owner}/${to}`.toLowerCase(), repo); // the old key stays: GitHub redirects the old name
  installation.repos.delete(`${repo.owner}/${from}`);
  installation.repos.add(`${repo.owner}/${to}`);
  // One repository under two keys: listed (installation, search) once, as GitHub does.
  const fake = arena.fake as { allRepos: () => FakeRepo[] };
  fake.allRepos = () => [...new Set(arena.fake.repos.values())];
}

function renameLogin(from: string, to: string): void {
  arena.fake.renameUser(from, to);
}

describe("attack 2: the access repository is renamed while a grant is live", () => {
  it("the grant is still revoked at its end", async () => {
    arena = await Arena.start();
    const g = await arena.liveGrant("alice", { minutes: 12 });
    expect(arena.isMember("alice")).toBe(true);
    renameRepository("access-renamed");
    await arena.advanceSweeping(13);
    expect(arena.isMember("alice")).toBe(false);
    expect(arena.onMain(g.path)).toBe(false);
    expect(arena.membershipPuts("alice")).toBe(1);
  });

  // Today: a record's external_id names the repository ("acme/access#1"); after a restart the grant is found under the
  // new name, its record is not recognised, the merged PR is judged afresh and "applied" again with alice's membership
  // (given by this grant) recorded as standing — so at the end nothing is taken away and she stays in the team.
  it("the grant is still revoked at its end when the app restarts after the rename", async () => {
    arena = await Arena.start();
    const g = await arena.liveGrant("alice", { minutes: 12 });
    renameRepository("access-renamed");
    await arena.advance(60_000);
    await arena.boot(); // a new process: it finds the live grant under the repository's new name
    await arena.advanceSweeping(12);
    expect(arena.isMember("alice")).toBe(false);
    expect(arena.onMain(g.path)).toBe(false);
    expect(arena.membershipPuts("alice")).toBe(1);
  });
});

describe("attack 3: the requester renames their login while a github-team grant is live", () => {
  // Today: at the end the app removes the membership of the login the grant file names ("alice"): GitHub answers 404,
  // which the provider takes for "already gone", and the record says EXECUTED while alice-renamed stays in the team.
  it("after the grant's end the renamed account is not a member of the team", async () => {
    arena = await Arena.start();
    await arena.liveGrant("alice", { minutes: 12 });
    expect(arena.isMember("alice")).toBe(true);
    renameLogin("alice", "alice-renamed");
    expect(arena.fake.isMember(TEAM, "alice-renamed")).toBe(true);
    await arena.advanceSweeping(13);
    expect(arena.fake.isMember(TEAM, "alice-renamed")).toBe(false);
  });
});
