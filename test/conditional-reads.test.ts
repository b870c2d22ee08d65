import { describe, expect, it } from "@jest/globals";
import { conditionalReads } from "../src/github/conditional.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { openRequest } from "../testkit/people.js";

/**
 * Conditional reads (github/conditional.ts): what GitHub answers 304 comes from what was kept, and
 * is exactly what a full read would have given; anything changed is read anew.
 */
const ref = { owner: "acme", repo: "access" };
const GRANT = 'requester: alice\nresource: prod-db\nrole: read-only\nduration: 2h\nreason: "Investigate INC-4211"\n';

function world() {
  const fake = new FakeGitHub(1);
  fake.addRepo("acme", "access", { ".github/jit-access.yml": "version: 1\nresources: {}\n" }, { writers: ["alice", "bob"] });
  return fake;
}

describe("conditional reads", () => {
  it("answers an unchanged resource from what was kept, after a 304", async () => {
    const fake = world();
    const number = (await openRequest(fake.as("alice"), ref, { branch: "request", path: "grants/prod-db/alice.yaml", content: GRANT }))!;
    const gh = conditionalReads(fake.client(), "installation-1");
    const first = await gh.rest.pulls.listFiles({ ...ref, pull_number: number });
    fake.reset();
    const again = await gh.rest.pulls.listFiles({ ...ref, pull_number: number });
    expect(fake.requests).toEqual([`GET /repos/acme/access/pulls/${number}/files`]);
    expect(fake.notModified).toEqual(fake.requests);
    expect(again.status).toBe(200);
    expect(again.data).toEqual(first.data);
  });

  it("reads a changed resource anew: never stale", async () => {
    const fake = world();
    const number = (await openRequest(fake.as("alice"), ref, { branch: "request", path: "grants/prod-db/alice.yaml", content: GRANT }))!;
    const gh = conditionalReads(fake.client(), "installation-1");
    expect((await gh.rest.pulls.listReviews({ ...ref, pull_number: number })).data).toEqual([]);
    await fake.as("bob").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
    fake.reset();
    const reviews = (await gh.rest.pulls.listReviews({ ...ref, pull_number: number })).data;
    expect(reviews.map((r) => [r.user?.login, r.state])).toEqual([["bob", "APPROVED"]]);
    expect(fake.notModified).toEqual([]);
  });

  it("keeps what each installation read apart, and gives callers copies they may change", async () => {
    const fake = world();
    const number = (await openRequest(fake.as("alice"), ref, { branch: "request", path: "grants/prod-db/alice.yaml", content: GRANT }))!;
    const one = conditionalReads(fake.client(), "installation-1");
    const two = conditionalReads(fake.client(), "installation-2");
    const read = await one.rest.pulls.get({ ...ref, pull_number: number });
    read.data.title = "changed by the caller";
    fake.reset();
    expect((await two.rest.pulls.get({ ...ref, pull_number: number })).data.title).not.toBe("changed by the caller");
    expect(fake.notModified).toEqual([]); // the other installation's first read: a full one
    expect((await one.rest.pulls.get({ ...ref, pull_number: number })).data.title).not.toBe("changed by the caller");
    expect(fake.notModified).toEqual([`GET /repos/acme/access/pulls/${number}`]);
  });

  it("pages through a kept list as through a fresh one", async () => {
    const fake = world();
    const number = (await openRequest(fake.as("alice"), ref, { branch: "request", path: "grants/prod-db/alice.yaml", content: GRANT }))!;
    for (let i = 0; i < 5; i++) await fake.as("bob").rest.issues.createComment({ ...ref, issue_number: number, body: `comment ${i}` });
    const gh = conditionalReads(fake.client(), "installation-1");
    const first = await gh.paginate(gh.rest.issues.listComments, { ...ref, issue_number: number, per_page: 2 });
    fake.reset();
    const again = await gh.paginate(gh.rest.issues.listComments, { ...ref, issue_number: number, per_page: 2 });
    expect(again.map((c) => c.body)).toEqual(first.map((c) => c.body));
    expect(again).toHaveLength(5);
    // Only the last page, which has room left, was kept: GitHub's 304 of a page carries no Link
    // header, so a page that has (or could have) one after it is always read in full.
    expect(fake.notModified).toEqual([`GET /repos/acme/access/issues/${number}/comments`]);
  });

  it("never keeps a full page: an item added after it is seen, though the page itself did not change", async () => {
    const fake = world();
    const number = (await openRequest(fake.as("alice"), ref, { branch: "request", path: "grants/prod-db/alice.yaml", content: GRANT }))!;
    for (let i = 0; i < 2; i++) await fake.as("bob").rest.issues.createComment({ ...ref, issue_number: number, body: `comment ${i}` });
    const gh = conditionalReads(fake.client(), "installation-1");
    expect(await gh.paginate(gh.rest.issues.listComments, { ...ref, issue_number: number, per_page: 2 })).toHaveLength(2);
    await fake.as("bob").rest.issues.createComment({ ...ref, issue_number: number, body: "/jit reject no" });
    fake.reset();
    const again = await gh.paginate(gh.rest.issues.listComments, { ...ref, issue_number: number, per_page: 2 });
    expect(again.map((c) => c.body)).toEqual(["comment 0", "comment 1", "/jit reject no"]);
    expect(fake.notModified).toEqual([]);
  });
});
