import { describe, expect, it } from "@jest/globals";
import { judgingMove } from "../src/github/judging-moves.js";
import { BENCH_POLICY } from "../testkit/live-grants.js";
import { ref } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { schedulerWorld } from "./helpers/scheduler-world.js";

/**
 * The merged request's evaluation, in the turn of the approval that merged it (pinned to the head
 * it judged), starts from what that approval read: the PR's files and record at that head, and
 * the policy and CODEOWNERS when one compare shows the merge left them alone
 * (github/judging-moves.ts); anything else — a judging file touched, a branch that diverged, more
 * than one commit for their provenance — is read afresh.
 */
const grant = (filename: string, previous?: string) => ({ filename, ...(previous ? { previous_filename: previous } : {}) });
const ahead = (files: { filename: string; previous_filename?: string }[], by = 1) => ({ status: "ahead", ahead_by: by, behind_by: 0, files });

describe("what a move of the default branch leaves of the judging files", () => {
  it("one commit touching only grant files: the files and their history (provenance) hold", () => {
    expect(judgingMove(ahead([grant("grants/prod-admins/alice.yaml")]))).toBe("files-and-history");
  });

  it("more commits: the files hold, their provenance is checked again (a file changed and changed back has a new last commit)", () => {
    expect(judgingMove(ahead([grant("grants/prod-admins/alice.yaml")], 3))).toBe("files");
  });

  it.each([
    [".github/jit-access.yml"],
    [".github/CODEOWNERS"],
    ["CODEOWNERS"],
    ["docs/CODEOWNERS"],
    [".github"], // a directory replaced by a file (or a symlink): what is under it changed
    ["docs"],
  ])("a changed %s: read afresh", (path) => {
    expect(judgingMove(ahead([grant("grants/a.yaml"), grant(path)]))).toBeUndefined();
  });

  it("a judging file renamed away: read afresh", () => {
    expect(judgingMove(ahead([grant("old-owners", "CODEOWNERS")]))).toBeUndefined();
  });

  it("anything not a plain move forward, or a list that may not be whole: read afresh", () => {
    expect(judgingMove({ ...ahead([grant("grants/a.yaml")]), status: "diverged", behind_by: 1 })).toBeUndefined();
    expect(judgingMove({ ...ahead([grant("grants/a.yaml")]), status: "behind", ahead_by: 0, behind_by: 1 })).toBeUndefined();
    expect(judgingMove({ status: "identical", ahead_by: 0, behind_by: 0, files: [] })).toBeUndefined();
    expect(judgingMove({ status: "ahead", ahead_by: 1, behind_by: 0 })).toBeUndefined();
    expect(judgingMove(ahead(Array.from({ length: 300 }, (_, i) => grant(`grants/g${i}.yaml`))))).toBeUndefined();
  });
});

const START = new Date("2026-11-29T12:00:00Z");
const content = `requester: alice\nresource: prod-admins\nrole: member\nduration: 2h\nreason: "Investigate INC-4211 on the primary database"\n`;
const POLICY_READ = "GET /repos/acme/access/contents/.github%2Fjit-access.yml";
const CODEOWNERS_READ = "GET /repos/acme/access/contents/.github%2FCODEOWNERS";

/** A request opened and evaluated, then approved: the next evaluation merges it and evaluates the merged request in the same turn. */
async function approvedRequest() {
  const { fake, evaluate } = schedulerWorld({ start: START });
  const number = (await openRequest(fake.as("alice"), ref, { branch: "request-alice", path: "grants/prod-admins/alice.yaml", content }))!;
  await evaluate(number);
  await fake.as("carol").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
  return { fake, number, evaluate };
}

describe("the merged request's evaluation in the approval's turn", () => {
  it("carries the policy and CODEOWNERS over the merge: one compare, no file or provenance read, and the grant applied", async () => {
    const { fake, number, evaluate } = await approvedRequest();
    fake.reset();
    await evaluate(number);
    expect(fake.pull("acme/access", number).merged).toBe(true);
    expect(fake.isMember("acme/prod-admins", "alice")).toBe(true);
    expect(fake.requests.filter((r) => r.includes("/compare/"))).toHaveLength(1);
    expect(fake.requests.filter((r) => r === POLICY_READ || r === CODEOWNERS_READ)).toEqual([]);
    expect(fake.requests.filter((r) => r === "GET /repos/acme/access/commits")).toEqual([]); // provenance: the judging files' last commits
  });

  it("starts from the PR's files and record as the approval left them: the merge was pinned to that head", async () => {
    const { fake, number, evaluate } = await approvedRequest();
    fake.reset();
    await evaluate(number);
    expect(fake.isMember("acme/prod-admins", "alice")).toBe(true);
    // The PR's files at its head were read when it was opened (github/fixed-reads.ts), its commits
    // by the approval (the first review that could count); after the merge its base and main's
    // commit are new, but the head is the one just judged: neither is read again.
    expect(fake.requests.filter((r) => r === `GET /repos/acme/access/pulls/${number}/files`)).toEqual([]);
    expect(fake.requests.filter((r) => r === `GET /repos/acme/access/pulls/${number}/commits`)).toHaveLength(1);
    expect(fake.requests.filter((r) => /^GET \/repos\/acme\/access\/commits\/[0-9a-f]{40}\/check-runs$/.test(r))).toHaveLength(1); // the approval's
    // The record is still read again inside the requester's turn, before the apply (at most one apply across replicas).
    expect(fake.requests.filter((r) => /^GET \/repos\/acme\/access\/check-runs\/\d+$/.test(r))).toHaveLength(1);
    // Applied once, and the display shows the applied record.
    const run = fake.repo("acme", "access")!.checkRuns.find((c) => c.headSha === fake.pull("acme/access", number).headSha)!;
    expect(run.output.text).toContain('"applied_at"');
    // The merge's own webhook, evaluated after the turn, reads neither again either.
    fake.reset();
    await evaluate(number);
    expect(fake.requests.filter((r) => r.endsWith(`/pulls/${number}/files`) || r.endsWith(`/pulls/${number}/commits`))).toEqual([]);
  });

  it("reads them afresh when the policy changed on the default branch while the merge was served, and refuses the pushed policy", async () => {
    const { fake, number, evaluate } = await approvedRequest();
    const carol = fake.as("carol");
    let pushed = false;
    // Someone pushes a new policy straight to main while GitHub serves the app's merge: the merge
    // commit descends from that push, so the policy read before the merge is no longer main's.
    fake.onRequest(async ({ method, path }) => {
      if (pushed || method !== "PUT" || !path.endsWith(`/pulls/${number}/merge`)) return;
      pushed = true;
      const { data } = await carol.rest.repos.getContent({ ...ref, path: ".github/jit-access.yml", ref: "main" });
      const widened = BENCH_POLICY.replace("max_duration: 8h", "max_duration: 24h");
      await carol.rest.repos.createOrUpdateFileContents({ ...ref, path: ".github/jit-access.yml", branch: "main", message: "widen", content: Buffer.from(widened).toString("base64"), sha: (data as { sha: string }).sha });
    });
    fake.reset();
    await evaluate(number);
    expect(pushed).toBe(true);
    expect(fake.pull("acme/access", number).merged).toBe(true);
    // Read at the merge commit (and once more by its provenance check, at the push that last changed it).
    expect(fake.requests.filter((r) => r === POLICY_READ).length).toBeGreaterThanOrEqual(1);
    // A policy that came without an approved pull request judges nothing: the merged grant is not applied.
    expect(fake.isMember("acme/prod-admins", "alice")).toBe(false);
  });
});
