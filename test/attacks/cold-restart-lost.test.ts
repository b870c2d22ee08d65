import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * cold-3: the scheduler's start-up rebuild (scheduler/scheduler.ts rebuildInstallation) finds live
 * grants only through the grant files on the default branch. The requester deletes her live grant's
 * file by a direct push (no PR, no event the app hears); while the process that indexed the grant
 * runs, its timer still ends it. After any restart (a deploy, a crash, a replica taking over the
 * scheduler lease) the grant is in no index, no search and no label query: it is never revoked.
 */
let arena: Arena;
afterEach(() => arena?.stop());

async function deleteOnMain(login: string, path: string): Promise<void> {
  const gh = arena.as(login);
  const { data } = await gh.rest.repos.getContent({ ...REF, path, ref: "main" });
  await gh.rest.repos.deleteFile({ ...REF, path, branch: "main", sha: (data as { sha: string }).sha, message: `remove ${path}` });
}

describe("cold-3: a live grant's file pushed off main, then the app restarts", () => {
  it("baseline (no restart): the grant is revoked at its end", async () => {
    arena = await Arena.start();
    const g = await arena.liveGrant("alice", { minutes: 30 });
    await deleteOnMain("alice", g.path);
    await arena.deliverAll();
    await arena.advanceSweeping(32);
    expect(arena.isMember("alice")).toBe(false);
  });

  // The rebuild also evaluates merged requests labelled live or applying that it did not find by their files.
  it("after a restart the grant is still revoked by its end", async () => {
    arena = await Arena.start();
    const g = await arena.liveGrant("alice", { minutes: 60 });
    expect(arena.isMember("alice")).toBe(true);
    await arena.advanceSweeping(10); // the PR is no longer among those updated lately
    await deleteOnMain("alice", g.path);
    await arena.deliverAll();
    await arena.advanceSweeping(10);
    await arena.boot(); // a deploy
    await arena.advanceSweeping(60);

    expect(arena.isMember("alice")).toBe(false);
    expect(arena.record(g.number)?.status).not.toBe("APPROVED");
  });
});
