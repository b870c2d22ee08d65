import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * Attack 9 of issue #17: a person labels 200 merged PRs `jit:revert-blocked`. The sweep looks for
 * merged requests with that label to retry their revert, and anyone with write access can set a
 * label. Safe: what a sweep costs stays bounded (here: at most 100 requests per sweep) however many
 * PRs carry the label.
 */
let arena: Arena;
afterEach(() => arena?.stop());

/** mallory's PRs, each adding one file outside grants/, merged and labelled. */
async function labelledMergedPulls(count: number): Promise<void> {
  const mallory = arena.as("mallory");
  for (let i = 0; i < count; i++) {
    const branch = `noise-${i}`;
    const { data: main } = await mallory.rest.git.getRef({ ...REF, ref: "heads/main" });
    await mallory.rest.git.createRef({ ...REF, ref: `refs/heads/${branch}`, sha: main.object.sha });
    await mallory.rest.repos.createOrUpdateFileContents({ ...REF, path: `docs/noise-${i}.md`, branch, message: "noise", content: Buffer.from(`${i}\n`).toString("base64") });
    const { data: pr } = await mallory.rest.pulls.create({ ...REF, head: branch, base: "main", title: `noise ${i}` });
    await mallory.rest.pulls.merge({ ...REF, pull_number: pr.number, merge_method: "squash" });
    await mallory.rest.issues.addLabels({ ...REF, issue_number: pr.number, labels: ["jit:revert-blocked"] });
    if (i % 20 === 19) await arena.deliverAll();
  }
  await arena.deliverAll();
}

describe("attack 9: 200 merged PRs labelled jit:revert-blocked by a person", () => {
  // Today: every sweep reads every merged PR the label search returns (its PR, the policy, its files: 3 requests each),
  // so its cost grows with the attacker's PRs — measured: 606 requests per sweep, every sweep, for 200 labelled PRs.
  it("requests per sweep stay bounded (at most 100)", async () => {
    arena = await Arena.start();
    await labelledMergedPulls(200);
    await arena.advance(60_000);
    await arena.sweep(); // the first sweep also looks at everything updated meanwhile
    const perSweep: number[] = [];
    for (let i = 0; i < 3; i++) {
      await arena.advance(60_000);
      const before = arena.fake.requests.length;
      await arena.sweep();
      perSweep.push(arena.fake.requests.length - before);
    }
    for (const n of perSweep) expect(n).toBeLessThanOrEqual(100);
  }, 120_000);
});
