import { describe, expect, it } from "@jest/globals";
import { FakeGitHub } from "../testkit/fake-github.js";
import { deleteThroughPullRequest, openRequest } from "../testkit/people.js";
import { openAndMergeRevert } from "../src/github/revert.js";

/**
 * Found by the lifecycle property test (seed 7, run 94): a request merged without meeting the
 * policy, whose grant file someone deleted from main before the app reverted it. GitHub refuses a PR
 * with no commits (422); the app took that for "another replica opened it", found none, and failed —
 * every minute, for ever, and the request was never recorded as rejected.
 */
const ref = { owner: "acme", repo: "access" };

describe("a revert of a grant file that is no longer on the default branch", () => {
  it("is already done: no PR, nothing thrown, reported as merged (number 0)", async () => {
    const fake = new FakeGitHub(1);
    fake.addRepo("acme", "access", { "README.md": "x\n" }, { writers: ["alice", "mallory"] });
    const path = "grants/prod-db/alice-0.yaml";
    const number = (await openRequest(fake.as("alice"), ref, { branch: "request", path, content: "requester: alice\n" }))!;
    await fake.as("alice").rest.pulls.merge({ ...ref, pull_number: number });
    const blobSha = fake.repos.get("acme/access")!.git.resolve("main")!.tree.get(path)!;
    await deleteThroughPullRequest(fake.as("mallory"), ref, { branch: "rm", path });
    const outcome = await openAndMergeRevert(fake.client(), ref, { branch: `jit-access/revert-${number}`, path, blobSha, title: "jit: revert", body: "b", defaultBranch: "main", appId: 1 });
    expect(outcome).toMatchObject({ number: 0, merged: true });
    expect([...fake.repos.get("acme/access")!.pulls.values()].filter((p) => p.headRef.startsWith("jit-access/"))).toEqual([]);
  });
});
