import { resetJudgingFileCache } from "../src/github/snapshot.js";
import { recordKey } from "../src/github/record.js";
import { beforeEach, describe, expect, it } from "@jest/globals";
import { FakeGitHub } from "../testkit/fake-github.js";
import { BENCH_POLICY, ref } from "../testkit/live-grants.js";
import { openRequest, push } from "../testkit/people.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { resetProvenanceCache } from "../src/github/provenance.js";
import { KeyedQueue } from "../src/handlers/queue.js";
import { readState } from "../src/lifecycle/codec.js";
import type { Provider } from "../src/providers/types.js";
import { Scheduler } from "../src/scheduler/scheduler.js";
import { fixedClock } from "./helpers/app.js";
import { visible } from "./helpers/fixtures.js";

/**
 * Policy provenance (issue "Fail safe", item 6), against the stateful in-memory GitHub: the policy
 * and CODEOWNERS that judge requests must have reached the default branch through a pull request
 * whose head carries this app's successful `jit-access` check. The repository's first commit is
 * vouched for by the operator (JIT_TRUSTED_POLICY_SHAS, as FakeGitHub.addRepo does); whatever
 * changes it afterwards is judged by where it came from.
 */
const NOW = new Date("2026-11-29T13:00:00Z");
const quiet = { info() {}, warn() {}, error() {} };
const memory = (): Provider => ({ units: (t) => [`team:${t.requester}`], held: async () => [], apply: async () => {}, revoke: async () => {}, describe: () => "in-memory access" });
const POLICY = ".github/jit-access.yml";
const CODEOWNERS = ".github/CODEOWNERS";
// The policy's owners (security) and everyone else's (platform); pat is in security.
const OWNERS = "* @acme/platform\n/.github/ @acme/security\n";
const NEW_POLICY = BENCH_POLICY.replace("max_duration: 8h", "max_duration: 4h");

beforeEach(() => {
  resetLiveGrantCaches();
  resetProvenanceCache();
  resetJudgingFileCache(); // the fake's commit SHAs repeat from one test to the next
  delete process.env.JIT_TRUSTED_POLICY_SHAS;
});

function world() {
  const fake = new FakeGitHub({ appId: 1, now: () => NOW });
  fake.addRepo("acme", "access", { [POLICY]: BENCH_POLICY, [CODEOWNERS]: OWNERS }, { writers: ["alice", "sam", "pat", "mallory"] });
  fake.addMember("@acme/security", "pat");
  const alerts: [string, string][] = [];
  const queue = new KeyedQueue((key, error) => {
    throw new Error(`evaluation of ${key} failed: ${(error as Error).message}`);
  });
  const deps = { appId: 1, now: () => NOW, providers: () => memory(), onAlert: (kind: string, message: string) => void alerts.push([kind, message]) };
  const scheduler = new Scheduler({ list: async () => [], client: async () => fake.client() }, deps, fixedClock(NOW), quiet, queue);
  const evaluate = async (number: number) => {
    await scheduler.enqueue(fake.client(), 4242, { ...ref, number });
    await queue.idle();
  };
  const repo = fake.repo("acme", "access")!;
  const run = (number: number) => repo.checkRuns.filter((r) => r.externalId === recordKey({ repoId: repo.id, number })).sort((a, b) => b.id - a.id)[0];
  const comment = (number: number) => fake.pull("acme/access", number).comments.find((c) => c.appId === 1)?.body ?? "";
  /** alice asks for an hour of prod-admins: judged by the policy on main. */
  const request = async (n: number) => {
    const number = (await openRequest(fake.as("alice"), ref, { branch: `request-${n}`, path: `grants/prod-admins/alice-${n}.yaml`, content: `requester: alice\nresource: prod-admins\nrole: member\nduration: 1h\nreason: "the migration overran"\n` }))!;
    await evaluate(number);
    return number;
  };
  /** sam proposes `content` for `path` in a pull request; pat (security) approves its head if asked. */
  const proposal = async (branch: string, path: string, content: string, o: { approve?: boolean } = {}) => {
    const number = (await openRequest(fake.as("sam"), ref, { branch, path, content, title: `change ${path}` }))!;
    if (o.approve) await fake.as("pat").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
    await evaluate(number);
    return number;
  };
  const merge = (number: number) => fake.as("sam").rest.pulls.merge({ ...ref, pull_number: number, merge_method: "squash" });
  return { fake, evaluate, run, comment, request, proposal, merge, alerts };
}

describe("the policy on the default branch", () => {
  it("merged from a pull request that jit-access approved, judges requests normally — and, once known, costs nothing more", async () => {
    const w = world();
    const change = await w.proposal("tighter", POLICY, NEW_POLICY, { approve: true });
    expect(w.run(change)).toMatchObject({ status: "completed", conclusion: "success" });
    await w.merge(change);

    w.fake.reset();
    const first = await w.request(1);
    expect(w.run(first)).toMatchObject({ status: "in_progress", output: { title: "Waiting for approvals" } });
    expect(readState(w.run(first)!.output.text)?.status).toBe("PENDING");
    // The policy's provenance: its last commit, its content there, the commit's PR, that PR's check runs.
    // The policy's last commit and its PR; CODEOWNERS' last commit (vouched at bootstrap, never changed since).
    expect(w.fake.requests.filter((r) => r === "GET /repos/acme/access/commits" || r.endsWith("/pulls") && r.includes("/commits/"))).toHaveLength(3);
    expect(w.alerts).toEqual([]);

    w.fake.reset();
    const second = await w.request(2);
    expect(readState(w.run(second)!.output.text)?.status).toBe("PENDING");
    expect(w.fake.requests.filter((r) => r === "GET /repos/acme/access/commits" || r.includes("/commits/"))).toEqual([`GET /repos/acme/access/commits/${w.fake.pull("acme/access", second).headSha}/check-runs`]);
  });

  it("pushed straight to the default branch, fails every new request closed with a clear message and an alert", async () => {
    const w = world();
    await push(w.fake.as("mallory"), ref, { branch: "main", path: POLICY, content: NEW_POLICY });

    const number = await w.request(1);
    expect(w.run(number)).toMatchObject({ status: "completed", conclusion: "failure", output: { title: "The access policy is not trusted" } });
    const commit = w.fake.repo("acme", "access")!.git.branches.get("main")!.slice(0, 7);
    const message = visible(w.run(number)!.output.summary);
    expect(message).toContain(`${POLICY} on main was not changed through a pull request that jit-access approved (commit ${commit}, pushed directly, not merged from a pull request); requests fail closed until it is`);
    expect(message).toContain("JIT_TRUSTED_POLICY_SHAS");
    expect(w.comment(number)).toContain("The access policy is not trusted");
    expect(w.fake.pull("acme/access", number).state).toBe("open"); // nothing merged
    expect(w.alerts).toHaveLength(1);
    expect(w.alerts[0]![0]).toBe("tamper");
    expect(w.alerts[0]![1]).toContain(`acme/access#${number} refused`);
  });

  it("merged from a pull request without jit-access's successful check, fails requests closed", async () => {
    const w = world();
    const change = await w.proposal("unapproved", POLICY, NEW_POLICY); // nobody approved it
    expect(w.run(change)?.conclusion).not.toBe("success");
    await w.merge(change); // no branch protection: a person can merge it anyway

    const number = await w.request(1);
    expect(w.run(number)).toMatchObject({ conclusion: "failure", output: { title: "The access policy is not trusted" } });
    expect(visible(w.run(number)!.output.summary)).toContain(`merged from #${change} without jit-access's successful check on its head`);
  });

  it("pushed straight but vouched for by the operator (JIT_TRUSTED_POLICY_SHAS), judges requests normally", async () => {
    const w = world();
    await push(w.fake.as("sam"), ref, { branch: "main", path: POLICY, content: NEW_POLICY });
    const refused = await w.request(1);
    expect(w.run(refused)?.output.title).toBe("The access policy is not trusted");

    // The operator vouches for that commit (the refusal names it): the change itself, not its content for ever.
    const commit = w.fake.repo("acme", "access")!.git.branches.get("main")!;
    process.env.JIT_TRUSTED_POLICY_SHAS = `${process.env.JIT_TRUSTED_POLICY_SHAS},${commit}`;
    const number = await w.request(2);
    expect(readState(w.run(number)!.output.text)?.status).toBe("PENDING");
  });

  it("a CODEOWNERS pushed straight to the default branch cannot approve a policy change into trust", async () => {
    const w = world();
    // mallory makes herself the policy's owner, then has a policy change approved under that.
    await push(w.fake.as("mallory"), ref, { branch: "main", path: CODEOWNERS, content: "* @mallory\n" });
    const change = await w.proposal("mine", POLICY, NEW_POLICY);
    expect(w.run(change)).toMatchObject({ status: "completed", conclusion: "failure", output: { title: "The access policy is not trusted" } });
    expect(visible(w.run(change)!.output.summary)).toContain(`${CODEOWNERS} on main was not changed through a pull request that jit-access approved`);
  });
});

describe("an approved policy change", () => {
  it("followed by a CODEOWNERS push to its branch, loses its approval", async () => {
    const w = world();
    const change = await w.proposal("tighter", POLICY, NEW_POLICY, { approve: true });
    expect(w.run(change)?.conclusion).toBe("success");

    await push(w.fake.as("sam"), ref, { branch: "tighter", path: CODEOWNERS, content: `${OWNERS}/grants/ @sam\n` });
    await w.evaluate(change);
    const run = w.run(change)!;
    expect(run.headSha).toBe(w.fake.pull("acme/access", change).headSha);
    expect(run.conclusion).not.toBe("success");
    expect(run.status).toBe("in_progress");
    expect(visible(run.output.summary)).toContain("pat does not count: given on an older commit whose changes differ from the current ones");
  });
});
