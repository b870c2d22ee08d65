import { describe, expect, it } from "@jest/globals";
import { grantFilesOn, resetLiveGrantCaches } from "../../src/github/live-grants.js";
import { recordsOfGrantFiles } from "../../src/scheduler/records-found.js";
import { FakeGitHub } from "../../testkit/fake-github.js";
import { accessRepository, ref, seedLiveGrant } from "../../testkit/live-grants.js";

/**
 * The rebuild's cheap path (scheduler/records-found.ts): grant files matched to the records that
 * name them, found through the closed PRs' pages; anything it cannot match is left to the per-file
 * lookup, never dropped.
 */
async function world(people: string[]) {
  const fake = new FakeGitHub(1);
  accessRepository(fake, [...people, "mallory"]);
  const now = Date.now();
  const numbers = new Map<string, number>();
  for (const p of people) numbers.set(p, await seedLiveGrant(fake, p, { appliedAt: new Date(now - 60_000), expiresAt: new Date(now + 3600_000) }));
  resetLiveGrantCaches();
  const repoId = fake.repo("acme", "access")!.id;
  return { fake, numbers, repoId };
}

describe("records of the grant files, from the closed PRs", () => {
  it("matches every file to its request's record, one record read each, no blob or history read", async () => {
    const { fake, numbers, repoId } = await world(["alice", "bob", "carol"]);
    const gh = fake.client();
    const { files } = await grantFilesOn(gh, ref, "main");
    fake.reset();
    const { found, unmatched } = await recordsOfGrantFiles(gh, { ...ref, repoId }, files, 1);
    expect(unmatched).toEqual([]);
    expect(found.map((f) => [f.file.path, f.number]).sort()).toEqual([...numbers].map(([p, n]) => [`grants/prod-admins/${p}.yaml`, n]).sort());
    expect(fake.requests.filter((r) => r.includes("/check-runs"))).toHaveLength(3);
    expect(fake.requests.filter((r) => r.includes("/blobs/") || r.includes("/commits?") || r.endsWith("/pulls"))).toHaveLength(1); // the one page
  });

  it("leaves to the per-file lookup a file whose request's labels were removed, and one whose content is not what the record judged", async () => {
    const { fake, numbers, repoId } = await world(["alice", "bob"]);
    await fake.as("mallory").rest.issues.removeLabel({ ...ref, issue_number: numbers.get("alice")!, name: "jit:approved" });
    // bob's file on main changed by a direct push: its record names other content.
    await fake.as("mallory").rest.repos.createOrUpdateFileContents({
      ...ref, path: "grants/prod-admins/bob.yaml", message: "push", branch: "main",
      content: Buffer.from(`requester: bob\nresource: prod-admins\nrole: member\nduration: 8h\nreason: "pushed"\n`).toString("base64"),
      sha: ((await fake.as("mallory").rest.repos.getContent({ ...ref, path: "grants/prod-admins/bob.yaml" })).data as { sha: string }).sha,
    });
    const gh = fake.client();
    const { files } = await grantFilesOn(gh, ref, "main");
    const { found, unmatched } = await recordsOfGrantFiles(gh, { ...ref, repoId }, files, 1);
    expect(found).toEqual([]);
    expect(unmatched.map((f) => f.path).sort()).toEqual(["grants/prod-admins/alice.yaml", "grants/prod-admins/bob.yaml"]);
  });
});
