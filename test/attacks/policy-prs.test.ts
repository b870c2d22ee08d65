import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, CODEOWNERS, POLICY, REF } from "./harness.js";

/**
 * Attacks 6 and 7 of issue #17: pull requests that change the policy (`.github/jit-access.yml`).
 * Their `jit-access` check succeeds only once every CODEOWNERS group of the policy file (sam's
 * security) has approved the current head; the app never merges them. Safe: the check is never
 * success for what the owners did not approve, and fails closed for what the app cannot see whole.
 */
let arena: Arena;
afterEach(() => arena?.stop());

const WIDER = POLICY.replace("max_duration: 8h\n  reason_min_length", "max_duration: 12h\n  reason_min_length");

/** One commit on a new branch from main (the git data API), and a PR from it by `login`; its number. */
async function pullRequest(login: string, branch: string, files: Record<string, string>): Promise<number> {
  const gh = arena.as(login);
  const { data: main } = await gh.rest.git.getRef({ ...REF, ref: "heads/main" });
  const { data: base } = await gh.rest.git.getTree({ ...REF, tree_sha: main.object.sha });
  const tree = Object.entries(files).map(([path, content]) => ({ path, mode: "100644" as const, type: "blob" as const, content }));
  const { data: t } = await gh.rest.git.createTree({ ...REF, base_tree: base.sha, tree });
  const { data: c } = await gh.rest.git.createCommit({ ...REF, message: "policy", tree: t.sha, parents: [main.object.sha] });
  await gh.rest.git.createRef({ ...REF, ref: `refs/heads/${branch}`, sha: c.sha });
  const { data } = await gh.rest.pulls.create({ ...REF, head: branch, base: "main", title: "policy change" });
  await arena.deliverAll();
  return data.number;
}

describe("attack 6: a policy PR approved by its owners, then the author pushes a CODEOWNERS change", () => {
  it("baseline: the owners' approval of the policy change makes the check succeed", async () => {
    arena = await Arena.start();
    expect(WIDER).not.toBe(POLICY);
    const n = await pullRequest("mallory", "wider", { ".github/jit-access.yml": WIDER });
    expect(arena.check(n)?.conclusion).not.toBe("success");
    await arena.approve(n, "sam");
    expect(arena.check(n)).toMatchObject({ status: "completed", conclusion: "success" });
  });

  // Today: the approval on the older head still counts, because the policy's blob is unchanged; the CODEOWNERS change
  // (which would let friend approve every grant) comes along unapproved, and the check says success.
  it("after `/grants/ @friend` is pushed to CODEOWNERS, the jit-access check is not success", async () => {
    arena = await Arena.start();
    const n = await pullRequest("mallory", "wider", { ".github/jit-access.yml": WIDER });
    await arena.approve(n, "sam");
    expect(arena.check(n)?.conclusion).toBe("success");

    const mallory = arena.as("mallory");
    const { data } = await mallory.rest.repos.getContent({ ...REF, path: ".github/CODEOWNERS", ref: "wider" });
    await mallory.rest.repos.createOrUpdateFileContents({
      ...REF, path: ".github/CODEOWNERS", branch: "wider", sha: (data as { sha: string }).sha, message: "owners",
      content: Buffer.from(`${CODEOWNERS}/grants/ @friend\n`).toString("base64"),
    });
    await arena.deliverAll();
    await arena.sweep();
    const check = arena.check(n);
    expect(check?.headSha).toBe(arena.pull(n).headSha); // the new head was judged
    expect(check?.conclusion).not.toBe("success");
  });
});

describe("attack 7: 100 filler files sorted before `.github/`, and a policy change", () => {
  // Before: the app read one page of 100 files, saw only fillers, took the PR for one that was not its business and
  // wrote no check at all. Now every page is read: it is a policy change like any other, held until its owners approve
  // (and a PR with more files than GitHub lists fails closed: test/classify.test.ts).
  it("the check is there and holds the change until the policy's owners approve it", async () => {
    arena = await Arena.start();
    const files: Record<string, string> = { ".github/jit-access.yml": WIDER };
    for (let i = 0; i < 100; i++) files[`.a/filler-${String(i).padStart(3, "0")}.txt`] = `filler ${i}\n`;
    const n = await pullRequest("mallory", "filler", files);
    // The premise: GitHub lists the fillers first, the policy on the second page.
    const { data: first } = await arena.as("mallory").rest.pulls.listFiles({ ...REF, pull_number: n, per_page: 100 });
    expect(first.map((f) => f.filename)).not.toContain(".github/jit-access.yml");

    await arena.deliverAll();
    expect(arena.check(n)).toMatchObject({ status: "in_progress" });
    expect(arena.check(n)?.output.title).toMatch(/Waiting for the policy's owners/);
  });
});
