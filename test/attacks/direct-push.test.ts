import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, POLICY, REF } from "./harness.js";

/**
 * Attacks 4 and 8 of issue #17: changes pushed straight to the default branch, without a pull
 * request (anyone with write access can, unless branch protection says otherwise).
 */
let arena: Arena;
afterEach(() => arena?.stop());

async function pushToMain(login: string, path: string, content: string | null): Promise<void> {
  const gh = arena.as(login);
  const { data } = await gh.rest.repos.getContent({ ...REF, path, ref: "main" });
  const sha = (data as { sha: string }).sha;
  if (content === null) await gh.rest.repos.deleteFile({ ...REF, path, branch: "main", sha, message: `remove ${path}` });
  else await gh.rest.repos.createOrUpdateFileContents({ ...REF, path, branch: "main", sha, message: `change ${path}`, content: Buffer.from(content).toString("base64") });
}

describe("attack 4: a direct push removes a live grant's file, then a second grant of the same person is applied", () => {
  // Today: a push makes no pull request event, so the first grant's end is only found by a later sweep; meanwhile the
  // second grant is applied and, the first grant's file being gone from main, alice's membership (given by the first)
  // is recorded as its standing access. The first grant then ends (REVOKED) taking nothing, the second still giving it;
  // the second ends (EXECUTED) taking nothing, it being "standing". No DELETE is ever made: she stays in the team.
  it("after both grants end the person is not a member of the team", async () => {
    arena = await Arena.start();
    const first = await arena.liveGrant("alice", { name: "alice-1", minutes: 12 });
    expect(arena.isMember("alice")).toBe(true);
    await pushToMain("alice", first.path, null);
    await arena.deliverAll();
    await arena.advance(60_000);

    const second = await arena.liveGrant("alice", { name: "alice-2", minutes: 30 });
    expect(arena.pull(second.number).merged).toBe(true);

    await arena.advanceSweeping(32);
    expect(arena.isMember("alice")).toBe(false);
  });

  it("on a replica that never saw the first grant, the second's apply still does not take its unit for standing", async () => {
    arena = await Arena.start();
    const first = await arena.liveGrant("alice", { name: "alice-1", minutes: 12 });
    await pushToMain("alice", first.path, null);
    await arena.deliverAll();
    // As a replica that is not the scheduler, or one that never evaluated the first grant: no index.
    arena.app!.scheduler.index.forget(() => true);

    const second = await arena.liveGrant("alice", { name: "alice-2", minutes: 30 });
    expect(arena.record(second.number)?.standing).toEqual([]);
  });
});

describe("attack 8: the policy is pushed straight to the default branch", () => {
  // alice gives herself auto-approval in the policy, on main, with no pull request and nobody's approval.
  const selfApproving = POLICY.replace("      member: { max_duration: 8h }", '      member: { max_duration: 8h, auto_approve: ["@alice"] }');

  // Today: the app reads whatever policy is on main, however it got there: alice's request is auto-approved and applied.
  it("requests fail closed, with a message that says why, and nothing is applied", async () => {
    arena = await Arena.start();
    expect(selfApproving).not.toBe(POLICY);
    await pushToMain("alice", ".github/jit-access.yml", selfApproving);
    await arena.deliverAll();
    const g = await arena.open("alice", { minutes: 60 });
    await arena.advanceSweeping(2);

    const check = arena.check(g.number)!;
    expect(check).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(`${check.output.title}\n${check.output.summary}\n${check.output.text}`).toMatch(/jit\\?-access\\?\.yml on main was not changed through a pull request/);
    expect(arena.pull(g.number).merged).toBe(false);
    expect(arena.membershipPuts("alice")).toBe(0);
    expect(arena.isMember("alice")).toBe(false);
  });
});
