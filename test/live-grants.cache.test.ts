import { describe, expect, it } from "@jest/globals";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref, seedLiveGrant } from "../testkit/live-grants.js";
import { listLiveGrants, resetLiveGrantCaches } from "../src/github/live-grants.js";

/**
 * Reference counting reads who requested each grant file on main (its blob) and which PR added it
 * (history). Found by the sweep benchmark: a burst of revokes after a restart read every blob once
 * per revoke — 10 due grants among 1,000 cost 10,202 requests — because the cache was only filled
 * when a read finished. A fact being read is shared with whoever asks meanwhile.
 */
describe("the live set's caches under a burst", () => {
  it("ten concurrent look-ups read each grant file's blob and history once", async () => {
    const fake = new FakeGitHub(1);
    const users = Array.from({ length: 20 }, (_, i) => `user${i + 1}`);
    accessRepository(fake, users);
    const now = new Date();
    for (const user of users) await seedLiveGrant(fake, user, { appliedAt: new Date(now.getTime() - 60_000), expiresAt: new Date(now.getTime() + 3600_000) });
    resetLiveGrantCaches();
    fake.reset();
    const gh = fake.client();
    const lists = await Promise.all(users.slice(0, 10).map((user, i) => listLiveGrants(gh, ref, { defaultBranch: "main", except: -1, path: "", requester: user, appId: 1, now, repoId: fake.repo("acme", "access")!.id })));
    expect(lists.map((l) => l.map((g) => g.number))).toEqual(users.slice(0, 10).map((_, i) => [i + 1]));
    expect(fake.count("GET /repos/acme/access/git/blobs/")).toBe(20);
    expect(fake.requests.filter((r) => r === "GET /repos/acme/access/commits").length).toBe(10); // history only of each requester's own file
  });
});

describe("people in reference counting", () => {
  it("are compared by user id where both records have one: a login taken over by someone else is another person", async () => {
    resetLiveGrantCaches();
    const fake = new FakeGitHub(1);
    accessRepository(fake, ["alice"]);
    const now = new Date();
    const number = await seedLiveGrant(fake, "alice", { appliedAt: new Date(now.getTime() - 60_000), expiresAt: new Date(now.getTime() + 3600_000) });
    const run = fake.repo("acme", "access")!.checkRuns.find((r) => r.headSha === fake.pull("acme/access", number).headSha)!;
    const q = { defaultBranch: "main", except: -1, path: "", requester: "alice", appId: 1, now, repoId: fake.repo("acme", "access")!.id };
    const found = async (requesterId?: number) => (await listLiveGrants(fake.client(), ref, { ...q, ...(requesterId === undefined ? {} : { requesterId }) })).map((g) => [g.number, g.target.requesterId]);

    expect(await found(501)).toEqual([[number, undefined]]); // a record from before ids: by login, as before
    run.output.text = run.output.text.replace('"status":"APPROVED"', '"requester_id":501,"status":"APPROVED"');
    expect(await found(501)).toEqual([[number, 501]]); // the same person
    expect(await found()).toEqual([[number, 501]]); // no id to compare with: by login
    expect(await found(777)).toEqual([]); // "alice" now, but not the alice whose grant that is
  });
});
