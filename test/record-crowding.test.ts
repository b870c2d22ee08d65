import { beforeEach, describe, expect, it } from "@jest/globals";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { loadCheck } from "../src/github/record.js";
import { KeyedQueue } from "../src/handlers/queue.js";
import { readState } from "../src/lifecycle/codec.js";
import { providerFactory, type ProviderFactory } from "../src/providers/registry.js";
import { Scheduler } from "../src/scheduler/scheduler.js";
import { fixedClock } from "./helpers/app.js";

/**
 * Fail safe, "the record can be pushed out of reach": a requester with a live grant pushes a hundred
 * branches at its head commit and opens a pull request from each. The grant's record (this app's
 * check run on that commit) must stay in sight: the refusals write nothing there, and the record is
 * read from every page of runs. Otherwise the grant, its record unseen, would be judged and applied
 * again, with the access it gave recorded as standing — and never revoked.
 */
const START = new Date("2026-11-29T12:00:00Z");
const quiet = { info() {}, warn() {}, error() {} };
const MEMBERSHIP = "/orgs/acme/teams/prod-admins/memberships/alice";

beforeEach(() => resetLiveGrantCaches());

function world() {
  const clock = fixedClock(START);
  const fake = new FakeGitHub({ appId: 1, now: () => clock.now() });
  accessRepository(fake, ["alice", "carol"]);
  fake.addMember("acme/platform", "carol");
  const queue = new KeyedQueue((key, error) => {
    throw new Error(`evaluation of ${key} failed: ${(error as Error).message}`);
  });
  // The real github-team provider, through the app's client; the requester ids it is given are noted.
  const requesterIds: (number | undefined)[] = [];
  const real = providerFactory({});
  const providers: ProviderFactory = (name, gh) => {
    const p = real(name, gh)!;
    return { ...p, apply: (t) => (requesterIds.push(t.requesterId), p.apply(t)), revoke: (t, units) => (requesterIds.push(t.requesterId), p.revoke(t, units)) };
  };
  const deps = { appId: 1, now: () => clock.now(), providers };
  const scheduler = new Scheduler({ list: async () => [], client: async () => fake.client() }, deps, clock, quiet, queue);
  const evaluate = async (number: number) => {
    await scheduler.enqueue(fake.client(), 4242, { ...ref, number });
    await queue.idle();
  };
  return { fake, clock, evaluate, requesterIds };
}

/** alice's request for prod-admins, approved by carol, merged and applied by the app: a live github-team grant. */
async function liveGrant(w: ReturnType<typeof world>): Promise<number> {
  const content = `requester: alice\nresource: prod-admins\nrole: member\nduration: 2h\nreason: "Investigate INC-4211 on the primary database"\n`;
  const number = (await openRequest(w.fake.as("alice"), ref, { branch: "request-alice", path: "grants/prod-admins/alice.yaml", content }))!;
  await w.fake.as("carol").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
  await w.evaluate(number); // approved: the app merges it (merge: auto by default)
  expect(w.fake.pull("acme/access", number).merged).toBe(true);
  await w.evaluate(number); // the merge's webhook: applied
  return number;
}

const recordOn = (fake: FakeGitHub, number: number) => {
  const run = fake.repo("acme", "access")!.checkRuns.filter((r) => r.appId === 1 && r.externalId?.endsWith(`#${number}`)).sort((a, b) => b.id - a.id)[0];
  return readState(run?.output.text ?? "");
};

describe("a live grant's head opened as a hundred other requests", () => {
  it("never applies the grant twice, writes nothing on its head for the others, and revokes it at its original end", async () => {
    const w = world();
    const grant = await liveGrant(w);
    const live = recordOn(w.fake, grant);
    const aliceId = (await w.fake.client().rest.pulls.get({ ...ref, pull_number: grant })).data.user.id;
    expect(live).toMatchObject({ status: "APPROVED", standing: [], requester_id: aliceId }); // the PR author's id, recorded at merge
    expect(w.fake.isMember("acme/prod-admins", "alice")).toBe(true);
    expect(w.fake.count(`PUT ${MEMBERSHIP}`)).toBe(1);
    // An apply reads the membership (held, then before adding): the provider is idempotent, so a
    // second apply shows in these reads and in the standing it records, not in a second PUT.
    const applyReads = w.fake.count(`GET ${MEMBERSHIP}`);
    const head = w.fake.pull("acme/access", grant).headSha;

    const alice = w.fake.as("alice");
    const others: number[] = [];
    for (let i = 0; i < 100; i++) {
      await alice.rest.git.createRef({ ...ref, ref: `refs/heads/again-${i}`, sha: head });
      others.push((await alice.rest.pulls.create({ ...ref, head: `again-${i}`, base: "main", title: `again ${i}` })).data.number);
    }
    for (const n of others) await w.evaluate(n);
    await w.evaluate(grant);

    // Each refusal is said in its PR's status comment, not in a check run on the grant's head.
    const runsOnHead = w.fake.repo("acme", "access")!.checkRuns.filter((r) => r.headSha === head);
    expect(runsOnHead).toHaveLength(1);
    const refusal = w.fake.pull("acme/access", others[99]!).comments.find((c) => c.appId === 1)?.body ?? "";
    expect(refusal).toContain(`this commit is already the head of request \\#${grant}`); // Markdown-escaped

    expect(w.fake.count(`PUT ${MEMBERSHIP}`)).toBe(1); // applied once
    expect(w.fake.count(`GET ${MEMBERSHIP}`)).toBe(applyReads); // and not attempted again
    expect(recordOn(w.fake, grant)).toMatchObject({ status: "APPROVED", standing: [], applied_at: live!.applied_at });

    w.clock.set(new Date(Date.parse(live!.expires_at!) + 1000));
    await w.evaluate(grant);
    expect(recordOn(w.fake, grant)?.status).toBe("EXECUTED");
    expect(w.fake.count(`DELETE ${MEMBERSHIP}`)).toBe(1);
    expect(w.fake.isMember("acme/prod-admins", "alice")).toBe(false);
    expect(w.requesterIds).toEqual([aliceId, aliceId]); // the provider was told who, by id, when applying and revoking
  });

  it("reads the record past the first page of runs on its head", async () => {
    const w = world();
    const grant = await liveGrant(w);
    const head = w.fake.pull("acme/access", grant).headSha;
    // Runs of this app for other PRs, as a version that still wrote refusals on a claimed head left them.
    const app = w.fake.client();
    for (let i = 0; i < 150; i++) {
      await app.rest.checks.create({ ...ref, name: "jit-access", external_id: `acme/access#${1000 + i}`, head_sha: head, status: "completed", conclusion: "failure", output: { title: "refused", summary: "refused", text: "" } });
    }
    // Nor is a run keyed by another repository's id taken for this grant's record.
    await app.rest.checks.create({ ...ref, name: "jit-access", external_id: `repo:${w.fake.repo("acme", "access")!.id + 1}#${grant}`, head_sha: head, status: "completed", conclusion: "success", output: { title: "other", summary: "other", text: "" } });
    const { run, claimedBy } = await loadCheck(app, { ...ref, repoId: w.fake.repo("acme", "access")!.id, number: grant }, head, 1);
    expect(readState(run?.text ?? "")?.status).toBe("APPROVED");
    expect(claimedBy).toBe(1000);
  });
});
