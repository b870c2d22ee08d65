import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, CODEOWNERS, REF } from "./harness.js";

/**
 * cold-6: policy provenance trusts content, not the way it reached main now
 * (github/provenance.ts loadPolicyProvenance: a blob in JIT_TRUSTED_POLICY_SHAS, or in the
 * in-process `trustedBlobs` cache, is trusted without looking at its last commit). Security
 * tightens CODEOWNERS through an approved PR (grants now also need @acme/security); the requester
 * pushes the old CODEOWNERS straight back to main. Its blob is the bootstrap one the operator
 * vouched for (or one this process once found approved), so requests are judged by it again:
 * dana's approval alone merges and applies alice's grant.
 */
let arena: Arena;
afterEach(() => arena?.stop());

const TIGHTER = CODEOWNERS.replace("/grants/prod-admins/ @acme/platform", "/grants/prod-admins/ @acme/platform @acme/security");

async function setOnMain(login: string, path: string, content: string): Promise<void> {
  const gh = arena.as(login);
  const { data } = await gh.rest.repos.getContent({ ...REF, path, ref: "main" });
  await gh.rest.repos.createOrUpdateFileContents({ ...REF, path, branch: "main", sha: (data as { sha: string }).sha, message: `change ${path}`, content: Buffer.from(content).toString("base64") });
}

/** Security's change, through a PR that gets sam's approval and is merged by a person (the app never merges policy PRs). */
async function tighten(): Promise<void> {
  const sam = arena.as("mallory"); // mallory writes it; sam (security) approves
  const { data: main } = await sam.rest.git.getRef({ ...REF, ref: "heads/main" });
  await sam.rest.git.createRef({ ...REF, ref: "refs/heads/tighten", sha: main.object.sha });
  const { data: file } = await sam.rest.repos.getContent({ ...REF, path: ".github/CODEOWNERS", ref: "tighten" });
  await sam.rest.repos.createOrUpdateFileContents({ ...REF, path: ".github/CODEOWNERS", branch: "tighten", sha: (file as { sha: string }).sha, message: "grants need security too", content: Buffer.from(TIGHTER).toString("base64") });
  const { data: pr } = await arena.as("mallory").rest.pulls.create({ ...REF, head: "tighten", base: "main", title: "tighten" });
  await arena.deliverAll();
  await arena.approve(pr.number, "sam");
  expect(arena.check(pr.number)).toMatchObject({ status: "completed", conclusion: "success" });
  await arena.as("mallory").rest.pulls.merge({ ...REF, pull_number: pr.number, merge_method: "squash" });
  await arena.deliverAll();
}

describe("cold-6: the old CODEOWNERS pushed back to main after security tightened it", () => {
  it("baseline: after the tightening, dana's approval alone does not merge a request", async () => {
    arena = await Arena.start();
    await tighten();
    const g = await arena.open("alice", { name: "alice-1" });
    await arena.approve(g.number);
    expect(arena.pull(g.number).merged).toBe(false);
  });

  // Trust is kept per (content, last commit), and a vouched content counts only until the file first changes.
  it("rolled back by a direct push: requests fail closed, nothing is applied", async () => {
    arena = await Arena.start();
    await tighten();
    await setOnMain("alice", ".github/CODEOWNERS", CODEOWNERS);
    await arena.deliverAll();
    const g = await arena.open("alice", { name: "alice-2" });
    await arena.approve(g.number);
    await arena.advanceSweeping(1);
    expect(arena.pull(g.number).merged).toBe(false);
    expect(arena.isMember("alice")).toBe(false);
  });
});
