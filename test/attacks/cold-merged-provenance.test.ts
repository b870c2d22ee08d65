import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, CODEOWNERS, POLICY, REF } from "./harness.js";

/**
 * cold-1: policy provenance is checked only for OPEN requests (github/snapshot.ts loads
 * `policyProvenance` only when `!snapshot.pr.merged`; lifecycle/decide.ts asks refuseUntrustedPolicy
 * only in decideOpenRequest). A merged request is re-judged (decideMerged → judgeRequest) by
 * whatever policy and CODEOWNERS are on main now, however they got there. On an unprotected main,
 * the requester pushes a self-approving policy (or CODEOWNERS), opens her request, and merges it
 * herself: the "bypass" re-judgement approves it, and it is applied.
 */
let arena: Arena;
afterEach(() => arena?.stop());

async function pushToMain(login: string, path: string, content: string): Promise<void> {
  const gh = arena.as(login);
  const { data } = await gh.rest.repos.getContent({ ...REF, path, ref: "main" });
  const sha = (data as { sha: string }).sha;
  await gh.rest.repos.createOrUpdateFileContents({ ...REF, path, branch: "main", sha, message: `change ${path}`, content: Buffer.from(content).toString("base64") });
}

describe("cold-1: a directly pushed policy judges a request the requester merges herself", () => {
  const selfApproving = POLICY.replace("      member: { max_duration: 8h }", '      member: { max_duration: 8h, auto_approve: ["@alice"] }');

  it("auto_approve pushed to main, request merged by alice: nothing is applied", async () => {
    arena = await Arena.start();
    await pushToMain("alice", ".github/jit-access.yml", selfApproving);
    await arena.deliverAll();
    const g = await arena.open("alice", { minutes: 60 });
    // The open request fails closed (attack 8's defence) …
    expect(arena.check(g.number)?.conclusion).toBe("failure");
    expect(arena.pull(g.number).merged).toBe(false);
    // … but main is unprotected, so alice merges it herself.
    await arena.as("alice").rest.pulls.merge({ ...REF, pull_number: g.number, merge_method: "squash" });
    await arena.deliverAll();
    await arena.advanceSweeping(2);

    expect(arena.membershipPuts("alice")).toBe(0);
    expect(arena.isMember("alice")).toBe(false);
  });

  it("CODEOWNERS pushed to main naming friend, friend approves, alice merges: nothing is applied", async () => {
    arena = await Arena.start();
    await pushToMain("alice", ".github/CODEOWNERS", CODEOWNERS.replace("/grants/prod-admins/ @acme/platform", "/grants/prod-admins/ @friend"));
    await arena.deliverAll();
    const g = await arena.open("alice", { minutes: 60 });
    await arena.as("friend").rest.pulls.createReview({ ...REF, pull_number: g.number, event: "APPROVE" });
    await arena.deliverAll();
    expect(arena.pull(g.number).merged).toBe(false);
    await arena.as("alice").rest.pulls.merge({ ...REF, pull_number: g.number, merge_method: "squash" });
    await arena.deliverAll();
    await arena.advanceSweeping(2);

    expect(arena.membershipPuts("alice")).toBe(0);
    expect(arena.isMember("alice")).toBe(false);
  });
});
