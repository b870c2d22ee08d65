import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, CODEOWNERS, POLICY, REF } from "./attacks/harness.js";
import { visible } from "./helpers/fixtures.js";

/**
 * Issue #22: the access plan in a policy PR's `jit-access` check, on the stateful in-memory GitHub.
 * sam (security) owns the policy and CODEOWNERS; dana and erin (platform) approve prod-admins grants.
 */
let arena: Arena;
afterEach(() => arena?.stop());

const POLICY_PATH = ".github/jit-access.yml";
const LONGER = POLICY.replace("member: { max_duration: 8h }", "member: { max_duration: 12h }");
const SHORTER = POLICY.replace("member: { max_duration: 8h }", "member: { max_duration: 10m }");
const GUARDED = `${POLICY}changes:\n  widening_requires: ["@acme/platform"]\n`;

/** One commit on a new branch from main, and a PR from it by `login`; its number. */
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

/** A push of one file to the PR's branch. */
async function push(login: string, branch: string, path: string, content: string): Promise<void> {
  const gh = arena.as(login);
  const { data } = await gh.rest.repos.getContent({ ...REF, path, ref: branch });
  await gh.rest.repos.createOrUpdateFileContents({ ...REF, path, branch, sha: (data as { sha: string }).sha, message: "change", content: Buffer.from(content).toString("base64") });
  await arena.deliverAll();
}

/** The line of the policy file where `text` stands (1-based). */
const lineOf = (policy: string, text: string) => policy.split("\n").findIndex((l) => l.includes(text)) + 1;

describe("a policy pull request's check shows the access plan", () => {
  it("with a summary line, a table per resource and a warning on the line that widens", async () => {
    arena = await Arena.start();
    const n = await pullRequest("mallory", "longer", { [POLICY_PATH]: LONGER });
    const check = arena.check(n)!;
    expect(check.status).toBe("in_progress");
    const summary = visible(check.output.summary);
    expect(summary).toContain("### Access plan: widens access: 1 role");
    expect(summary).toContain("**prod-admins**");
    expect(summary).toContain("| ⬆ | member | max_duration | 8h | 12h |  |");
    expect(check.annotations).toEqual([
      { path: POLICY_PATH, start_line: lineOf(LONGER, "member:"), end_line: lineOf(LONGER, "member:"), annotation_level: "warning", message: "widens access: prod-admins/member: maximum duration: 8h → 12h" },
    ]);
  });

  it("is computed again on a push: the new head's check shows the new plan", async () => {
    arena = await Arena.start();
    const n = await pullRequest("mallory", "longer", { [POLICY_PATH]: LONGER });
    expect(visible(arena.check(n)!.output.summary)).toContain("widens access: 1 role");
    await push("mallory", "longer", POLICY_PATH, SHORTER);
    const check = arena.check(n)!;
    expect(check.headSha).toBe(arena.pull(n).headSha);
    const summary = visible(check.output.summary);
    expect(summary).toContain("### Access plan: narrows access: 1 role");
    expect(summary).toContain("| ⬇ | member | max_duration | 8h | 10m |  |");
    expect(check.annotations).toEqual([]);
  });

  it("names live grants the new policy would not allow, and the people a team brings (from the directory)", async () => {
    arena = await Arena.start();
    const grant = await arena.liveGrant("alice", { minutes: 30 });
    expect(arena.record(grant.number)?.status).toBe("APPROVED");
    const proposed = SHORTER.replace("member: { max_duration: 10m }", 'member: { max_duration: 10m, auto_approve: ["@acme/platform"] }');
    const n = await pullRequest("mallory", "shorter", { [POLICY_PATH]: proposed });
    const summary = visible(arena.check(n)!.output.summary);
    expect(summary).toContain("### Access plan: widens access: 1 role, narrows: 1 role");
    expect(summary).toContain("| ⬆ | member | auto_approve | — | @acme/platform | dana, erin |");
    expect(summary).toContain(`- 1 live grant of prod-admins/member exceeds the new 10m maximum; it keeps its window (#${grant.number})`);
  });

  it("a CODEOWNERS-only change gets the same plan", async () => {
    arena = await Arena.start();
    const n = await pullRequest("mallory", "owners", { ".github/CODEOWNERS": CODEOWNERS.replace("/grants/prod-admins/ @acme/platform", "/grants/prod-admins/ @acme/platform @mallory") });
    const summary = visible(arena.check(n)!.output.summary);
    expect(summary).toContain("### Access plan: narrows access: 1 role");
    expect(summary).toContain("| ⬇ | member | approvers | — | @mallory |  |");
  });
});

describe("changes.widening_requires", () => {
  it("a widening change names the extra group and stays in progress until it approves", async () => {
    arena = await Arena.start({ policy: GUARDED });
    const n = await pullRequest("mallory", "longer", { [POLICY_PATH]: GUARDED.replace("member: { max_duration: 8h }", "member: { max_duration: 12h }") });
    expect(arena.check(n)!.output.title).toBe("Waiting for the policy's owners: @acme/security; @acme/platform (this change widens access)");
    await arena.approve(n, "sam");
    const waiting = arena.check(n)!;
    expect(waiting).toMatchObject({ status: "in_progress", output: { title: "Waiting for @acme/platform (this change widens access)" } });
    expect(visible(waiting.output.summary)).toContain("This change widens access: `changes.widening_requires` on main asks for the approval of @acme/platform as well.");
    await arena.approve(n, "dana");
    expect(arena.check(n)).toMatchObject({ status: "completed", conclusion: "success" });
    expect(arena.pull(n).merged).toBe(false); // the app never merges a policy change
  });

  it("a change that only narrows needs the policy's owners alone", async () => {
    arena = await Arena.start({ policy: GUARDED });
    const n = await pullRequest("mallory", "shorter", { [POLICY_PATH]: GUARDED.replace("member: { max_duration: 8h }", "member: { max_duration: 1h }") });
    expect(arena.check(n)!.output.title).toBe("Waiting for the policy's owners: @acme/security");
    await arena.approve(n, "sam");
    expect(arena.check(n)).toMatchObject({ status: "completed", conclusion: "success" });
  });

  it("dropping widening_requires is itself a widening change, and needs the groups it drops", async () => {
    arena = await Arena.start({ policy: GUARDED });
    const n = await pullRequest("mallory", "unguard", { [POLICY_PATH]: POLICY });
    await arena.approve(n, "sam");
    expect(arena.check(n)).toMatchObject({ status: "in_progress", output: { title: "Waiting for @acme/platform (this change widens access)" } });
  });
});
