import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * cold2-4: TooManyGrantFiles (github/live-grants.ts listLiveGrants) counts grant files by the
 * requester they NAME, not by who pushed them. mallory (write access, no grant of her own) pushes
 * 26 files naming bob straight to main: every apply of bob's approved grants is refused until his
 * window passes (an on-call engineer locked out during an incident), and each revoke of his skips
 * reference counting, so one ending grant takes the unit another live grant of his still gives.
 */
let arena: Arena;
afterEach(() => arena?.stop());

async function fillersNaming(pusher: string, requester: string, count: number): Promise<void> {
  const gh = arena.as(pusher);
  const { data: main } = await gh.rest.git.getRef({ ...REF, ref: "heads/main" });
  const { data: base } = await gh.rest.git.getTree({ ...REF, tree_sha: main.object.sha });
  const tree = Array.from({ length: count }, (_, i) => ({ path: `grants/prod-admins/x-${i}.yaml`, mode: "100644" as const, type: "blob" as const, content: arena.grantYaml(requester, { reason: `Investigate INC-${i}: filler ${i}` }) }));
  const { data: t } = await gh.rest.git.createTree({ ...REF, base_tree: base.sha, tree });
  const { data: c } = await gh.rest.git.createCommit({ ...REF, message: "tidy", tree: t.sha, parents: [main.object.sha] });
  await gh.rest.git.updateRef({ ...REF, ref: "heads/main", sha: c.sha });
}

describe("cold2-4: filler grant files naming someone else", () => {
  // Before: files anyone with write access pushed, naming bob, refused every apply of his approved grants. Now
  // reference counting is skipped (nothing counts as standing; an alert), so he is never locked out.
  it("bob's approved grant is applied although mallory pushed 26 files naming him", async () => {
    arena = await Arena.start();
    await fillersNaming("mallory", "bob", 26);
    await arena.deliverAll();
    const g = await arena.open("bob", { minutes: 30 });
    await arena.approve(g.number);
    await arena.advanceSweeping(3);
    expect(arena.pull(g.number).merged).toBe(true);
    expect(arena.isMember("bob")).toBe(true);
  }, 120_000);
});
