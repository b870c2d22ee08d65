import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * Commit 32e6089 skips the `opened` webhook of every revert PR this process opened, whatever head
 * the payload shows, and the merged `closed` webhook of such a PR once the request's record holds
 * its end, when "merged by its author" (the app). mallory (write access) pushes a deletion of
 * bob's grant file onto the app's revert branch in the moment between the app's commit and its
 * `POST /pulls`: the PR opens on her head, and GitHub sends no `synchronize` (the push came before
 * the PR). Its `opened` webhook is skipped. She then merges the PR herself just before the app's
 * pinned merge: the app finds it merged and records alice's end with it, so the note that the end
 * is recorded is taken too. Only the merged-by-its-author condition makes the `closed` webhook
 * evaluated, and that evaluation is the only one that ends bob's grant, whose file is gone from
 * the default branch. Pins that defence (it fails if alreadySeen drops the merged_by check).
 */
let arena: Arena;
afterEach(() => arena?.stop());

describe("own webhooks: a revert PR hijacked before it opens, merged by a person", () => {
  it("the merge's webhook is evaluated and ends the grant whose file mallory's commit deleted", async () => {
    arena = await Arena.start();
    const bob = await arena.liveGrant("bob", { name: "bob-1", minutes: 120 });
    const alice = await arena.liveGrant("alice", { minutes: 12 });
    expect(arena.isMember("bob")).toBe(true);
    const branch = `jit-access/revert-${alice.number}`;
    let pushedFirst = false;
    let mergedFirst = false;
    arena.fake.onRequest(async (r) => {
      if (!pushedFirst && r.method === "POST" && r.path === "/repos/acme/access/pulls" && r.body?.head === branch) {
        pushedFirst = true;
        const { data } = await arena.as("mallory").rest.repos.getContent({ ...REF, path: bob.path, ref: branch });
        await arena.as("mallory").rest.repos.deleteFile({ ...REF, path: bob.path, sha: (data as { sha: string }).sha, branch, message: "tidy up" });
      }
      const revert = [...arena.repo.pulls.values()].find((p) => p.headRef === branch);
      if (!mergedFirst && revert && r.method === "PUT" && r.path === `/repos/acme/access/pulls/${revert.number}/merge`) {
        mergedFirst = true;
        await arena.as("mallory").rest.pulls.merge({ ...REF, pull_number: revert.number, merge_method: "squash" });
      }
    });
    await arena.advance(13 * 60_000); // alice's grant ends; its revert PR is opened and merged
    expect(pushedFirst && mergedFirst).toBe(true);
    const revert = [...arena.repo.pulls.values()].find((p) => p.headRef === branch)!;
    expect(revert).toMatchObject({ merged: true, mergedBy: "mallory" });
    expect(arena.isMember("alice")).toBe(false);
    // The app took mallory's merge as its own revert: alice's end is recorded with that PR.
    expect(arena.record(alice.number)).toMatchObject({ status: "EXECUTED", revert_pr: revert.number, revert_pending: false });
    // bob's file left the default branch with it: the deletion ends his grant.
    expect(arena.onMain(bob.path)).toBe(false);
    expect(arena.isMember("bob")).toBe(false);
  });
});
