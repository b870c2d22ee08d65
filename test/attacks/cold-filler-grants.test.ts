import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * cold-4: reference counting (github/live-grants.ts listLiveGrants) reads, for every grant file on
 * main that names the requester, that path's commits (never cached) and the PRs of each commit (an
 * empty answer is never cached either). Grant files pushed straight to main come from no PR: each
 * costs at least two requests on every apply and every revoke of that person's grants, before the
 * provider is called. 300 filler files naming alice, pushed in one commit, make each of her
 * revokes cost 600+ requests; a few thousand would spend the installation's hourly 5,000 on one
 * revoke — delaying it, and every other revoke of the installation, until the limit resets.
 */
let arena: Arena;
afterEach(() => arena?.stop());

const FILLERS = 300;

async function pushFillers(login: string, count: number): Promise<void> {
  const gh = arena.as(login);
  const { data: main } = await gh.rest.git.getRef({ ...REF, ref: "heads/main" });
  const { data: base } = await gh.rest.git.getTree({ ...REF, tree_sha: main.object.sha });
  const tree = Array.from({ length: count }, (_, i) => ({ path: `grants/prod-admins/filler-${i}.yaml`, mode: "100644" as const, type: "blob" as const, content: arena.grantYaml("alice", { reason: `Investigate INC-${i}: filler ${i}` }) }));
  const { data: t } = await gh.rest.git.createTree({ ...REF, base_tree: base.sha, tree });
  const { data: c } = await gh.rest.git.createCommit({ ...REF, message: "fillers", tree: t.sha, parents: [main.object.sha] });
  await gh.rest.git.updateRef({ ...REF, ref: "heads/main", sha: c.sha });
}

describe("cold-4: grant files naming the requester pushed straight to main", () => {
  // Open: reference counting reads every grant file naming the person, and the history of each.
  it.failing(`[open #17] ${FILLERS} filler files: the revoke of her grant costs at most 100 requests`, async () => {
    arena = await Arena.start();
    await pushFillers("alice", FILLERS);
    await arena.deliverAll();
    const g = await arena.liveGrant("alice", { minutes: 12 });
    expect(arena.isMember("alice")).toBe(true);
    const expiresAt = Date.parse(arena.record(g.number)!.expires_at!);
    await arena.advance(expiresAt - arena.clock.now() - 20_000);
    const before = arena.fake.requests.length;
    await arena.advance(25_000);
    const revokeCost = arena.fake.requests.length - before;
    expect(arena.isMember("alice")).toBe(false);
    expect(revokeCost).toBeLessThanOrEqual(100);
  }, 120_000);
});
