import { describe, expect, it } from "@jest/globals";
import { readState } from "../src/lifecycle/codec.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { ref } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { schedulerWorld } from "./helpers/scheduler-world.js";

/**
 * The approving evaluation merges, then evaluates the merged request in the same turn: the grant
 * is applied at once, and the display (labels, comment) is drawn once, from the applied record,
 * with no tamper alert for the display it left behind on purpose.
 */
const START = new Date("2026-11-29T12:00:00Z");

function world() {
  const { fake, evaluate, alerts } = schedulerWorld({ start: START, people: ["alice", "bob", "carol"] });
  return { fake, evaluate, alerts };
}

const content = `requester: alice\nresource: prod-admins\nrole: member\nduration: 2h\nreason: "Investigate INC-4211 on the primary database"\n`;

describe("merge, then apply in the same turn", () => {
  it("applies at once and draws the display once, from the applied record", async () => {
    const w = world();
    const number = (await openRequest(w.fake.as("alice"), ref, { branch: "request-alice", path: "grants/prod-admins/alice.yaml", content }))!;
    await w.evaluate(number);
    await w.fake.as("carol").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
    w.fake.reset();
    await w.evaluate(number);
    expect(w.fake.isMember("acme/prod-admins", "alice")).toBe(true);
    const pr = w.fake.repo("acme", "access")!.pulls.get(number)!;
    expect(pr.merged).toBe(true);
    expect(pr.labels).toEqual(["jit:approved"]);
    const comment = pr.comments.filter((c) => c.appId === 1).at(-1)!;
    expect(readState(comment.body)).toMatchObject({ status: "APPROVED" });
    expect(readState(comment.body)?.applied_at).toBeDefined();
    // Labels changed once, the comment written once: the approval's display was left to the merged evaluation.
    expect(w.fake.requests.filter((r) => r.includes("/labels"))).toEqual([`PUT /repos/acme/access/issues/${number}/labels`]); // jit:pending for jit:approved, one write
    expect(w.fake.requests.filter((r) => r.startsWith("PATCH") && r.includes("/issues/comments/"))).toHaveLength(1);
    expect(w.alerts).toEqual([]);
    // The merge's own webhook, later, finds nothing to do.
    w.fake.reset();
    await w.evaluate(number);
    expect(w.fake.requests.filter((r) => !r.startsWith("GET"))).toEqual([]);
    expect(w.alerts).toEqual([]);
  });

  it("draws the approval's display itself when GitHub does not show the merge yet", async () => {
    const w = world();
    const number = (await openRequest(w.fake.as("alice"), ref, { branch: "request-alice", path: "grants/prod-admins/alice.yaml", content }))!;
    await w.evaluate(number);
    await w.fake.as("carol").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
    // GitHub's read right after the merge still says "not merged" (it catches up a moment later).
    let merged = false;
    w.fake.onRequest(({ method, path }) => {
      if (method === "PUT" && path.endsWith(`/pulls/${number}/merge`)) merged = true;
    });
    const pulls = w.fake.repo("acme", "access")!.pulls;
    const real = pulls.get(number)!;
    let lagged = false;
    w.fake.onRequest(({ method, path }) => {
      if (merged && !lagged && method === "GET" && path === `/repos/acme/access/pulls/${number}`) {
        lagged = true;
        real.merged = false;
        setImmediate(() => (real.merged = true));
      }
    });
    await w.evaluate(number);
    expect(lagged).toBe(true);
    // The approval's own display, drawn after all: the comment shows the record as it stands.
    const record = w.fake.repo("acme", "access")!.checkRuns.filter((r) => r.headSha === real.headSha).at(-1)!;
    const comment = real.comments.filter((c) => c.appId === 1).at(-1)!;
    expect(comment.body).toBe(record.output.text);
    expect(w.alerts).toEqual([]);
    // The merge's webhook applies it, without a tamper alert: the display was drawn.
    await w.evaluate(number);
    expect(w.fake.isMember("acme/prod-admins", "alice")).toBe(true);
    expect(w.alerts).toEqual([]);
  });

  it("reads nothing again that the turn already knows: the approver's membership, an applied grant's requester", async () => {
    resetLiveGrantCaches();
    const w = world();
    const approveAndMerge = async (login: string) => {
      const number = (await openRequest(w.fake.as(login), ref, { branch: `request-${login}`, path: `grants/prod-admins/${login}.yaml`, content: content.replace("alice", login) }))!;
      await w.evaluate(number);
      await w.fake.as("carol").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
      w.fake.reset();
      await w.evaluate(number);
      expect(w.fake.isMember("acme/prod-admins", login)).toBe(true);
    };
    await approveAndMerge("alice");
    // The merged request is judged with the approver's membership the merge was decided with.
    expect(w.fake.requests.filter((r) => r === "GET /orgs/acme/teams/platform/members")).toHaveLength(1);
    await approveAndMerge("bob");
    // bob's reference counting finds alice's grant file on main: its requester is known from her
    // record (the app applied it), so her blob is not read.
    expect(w.fake.count("GET /repos/acme/access/git/blobs/")).toBe(0);
    expect(w.alerts).toEqual([]);
  });
});
