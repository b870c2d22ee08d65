import { afterEach, describe, expect, it } from "@jest/globals";
import { openRequest } from "../../testkit/people.js";
import { Arena, CODEOWNERS, POLICY, REF } from "./harness.js";

/**
 * cold2-1: the fix for cold-9 fixes a grant's target only for SCHEDULED grants. A grant applied at
 * once whose first apply FAILS is recorded without `target` (settle.ts settleApplyFailed keeps a
 * target only when standing was recorded), and its retry (merged.ts applyStep, reached through
 * decidedFromState, so no provenance check) applies whatever the policy on main says at the retry.
 * The requester makes the first apply fail herself: 26 grant files naming her pushed straight to
 * main make listLiveGrants throw TooManyGrantFiles before standing is recorded. She then pushes a
 * policy whose `staging` role gives prod-admins and deletes the fillers; the retry applies prod-admins.
 */
let arena: Arena;
afterEach(() => arena?.stop());

const WITH_STAGING = POLICY.replace("resources:\n", "resources:\n  staging:\n    provider: github-team\n    config: { org: acme, team: staging }\n    roles:\n      member: { max_duration: 8h }\n");
const RETARGETED = WITH_STAGING.replace("config: { org: acme, team: staging }", "config: { org: acme, team: prod-admins }");

async function commitToMain(login: string, files: { path: string; content: string | null }[]): Promise<void> {
  const gh = arena.as(login);
  const { data: main } = await gh.rest.git.getRef({ ...REF, ref: "heads/main" });
  const { data: base } = await gh.rest.git.getTree({ ...REF, tree_sha: main.object.sha });
  const tree = files.map((f) => ({ path: f.path, mode: "100644" as const, type: "blob" as const, ...(f.content === null ? { sha: null } : { content: f.content }) }));
  const { data: t } = await gh.rest.git.createTree({ ...REF, base_tree: base.sha, tree: tree as never });
  const { data: c } = await gh.rest.git.createCommit({ ...REF, message: "tidy", tree: t.sha, parents: [main.object.sha] });
  await gh.rest.git.updateRef({ ...REF, ref: "heads/main", sha: c.sha });
}

describe("cold2-1: a failed first apply forgets the approved target; the retry applies main's", () => {
  // Before: the retry of an immediate grant applied the target named by an unverified policy pushed to main after the
  // merge. Now the approved target is recorded at the merge and a retry refuses one that changed.
  it("a staging grant whose first apply failed is retried against prod-admins after a pushed policy", async () => {
    arena = await Arena.start({ policy: WITH_STAGING, codeowners: `${CODEOWNERS}/grants/staging/ @acme/platform\n` });
    // The first apply fails before what is held is recorded (GitHub unreachable for the read of her
    // membership): the grant waits, APPLYING, for its retry.
    let failed = false;
    arena.fake.onRequest((r) => {
      if (!failed && r.method === "GET" && r.path.includes("/teams/staging/memberships/")) {
        failed = true;
        throw new TypeError("fetch failed");
      }
    });

    const path = "grants/staging/alice-1.yaml";
    const content = `requester: alice\nresource: staging\nrole: member\nduration: 60m\nreason: "Investigate INC-4211: stuck deploys"\n`;
    const number = (await openRequest(arena.as("alice"), REF, { branch: "request-staging", path, content }))!;
    await arena.deliverAll();
    await arena.approve(number);
    expect(arena.pull(number).merged).toBe(true);
    expect(arena.record(number)?.status).toBe("APPLYING");
    expect(arena.record(number)?.target).toMatchObject({ provider: "github-team", config: { team: "staging" } }); // kept from the merge

    await commitToMain("alice", [{ path: ".github/jit-access.yml", content: RETARGETED }]);
    await arena.deliverAll();
    await arena.advanceSweeping(20);

    expect(arena.isMember("alice", "acme/prod-admins")).toBe(false);
  }, 120_000);
});
