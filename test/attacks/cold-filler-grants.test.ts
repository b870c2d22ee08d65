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
  // Reference counting reads a bounded number of grant files a lookup and at most 25 naming one
  // person: beyond that it is skipped with an alert — nothing counts as standing access, and the
  // revoke takes all but recorded standing. alice's 300 fillers cost her nothing she should keep,
  // and the installation only one read per filler.
  it(`${FILLERS} filler files: her grant is revoked at its end, each filler is read once, and the steady cost stays small`, async () => {
    arena = await Arena.start();
    await pushFillers("alice", FILLERS);
    await arena.deliverAll();
    const perMinute: number[] = [];
    let last = arena.fake.requests.length;
    const g = await arena.open("alice", { minutes: 12 });
    await arena.approve(g.number);
    for (let minute = 0; minute < 20; minute++) {
      await arena.advanceSweeping(1);
      perMinute.push(arena.fake.requests.length - last);
      last = arena.fake.requests.length;
    }
    // Applied (nothing counted as standing), then taken away at its end.
    expect(arena.membershipPuts("alice")).toBeGreaterThan(0);
    expect(arena.record(g.number)).toMatchObject({ status: "EXECUTED", standing: [] });
    expect(arena.isMember("alice")).toBe(false);
    expect(arena.errors.some((e) => e.includes("without reference counting"))).toBe(true);
    // Each filler's blob is read once (learned a hundred at a time), never again per apply or revoke.
    expect(perMinute.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2 * FILLERS);
    expect(Math.max(...perMinute.slice(-5))).toBeLessThanOrEqual(25);
  }, 120_000);
});
