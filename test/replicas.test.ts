import { beforeEach, describe, expect, it } from "@jest/globals";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, seedLiveGrant } from "../testkit/live-grants.js";
import { readState } from "../src/lifecycle/codec.js";
import type { Provider } from "../src/providers/types.js";
import { Scheduler } from "../src/scheduler/scheduler.js";
import { fixedClock } from "./helpers/app.js";

/**
 * Two replicas of the app at once, against one stateful in-memory GitHub (with latency, so their
 * requests interleave): each end of a grant happens once. The grant is found the way a restarted
 * app finds it — its file on main, the merged PR that added it, that PR's record in the app's check
 * run — and its end is recorded there, shown on the PR, and in git history by one revert PR.
 */
const APP_ID = 1;
const quiet = { info() {}, warn() {}, error() {} };
const EXPIRES = new Date("2026-11-29T15:00:00Z");

function inMemoryProvider(now: () => Date) {
  const held = new Set<string>(["team:alice"]);
  let removals = 0;
  const calls: Date[] = [];
  const provider: Provider = {
    units: (t) => [`team:${t.requester}`],
    held: async (t) => (held.has(`team:${t.requester}`) ? [`team:${t.requester}`] : []),
    apply: async (t) => void held.add(`team:${t.requester}`),
    revoke: async (_t, units) => {
      calls.push(now());
      for (const u of units) if (held.delete(u)) removals++;
    },
    describe: () => "in-memory access",
  };
  return { provider, held, removals: () => removals, calls: () => calls };
}

beforeEach(() => resetLiveGrantCaches());

describe("two replicas at once", () => {
  it.each([0, 1, 3])("take the access once, never early; open and merge one revert PR; record the end once (%i ms a request)", async (latency) => {
    const clock = fixedClock(new Date("2026-11-29T13:00:00Z"));
    const fake = new FakeGitHub({ appId: APP_ID, now: () => clock.now() });
    accessRepository(fake, ["alice"]);
    const number = await seedLiveGrant(fake, "alice", { appliedAt: clock.now(), expiresAt: EXPIRES });
    clock.set(new Date(EXPIRES.getTime() + 1000));
    fake.latencyMs = latency;
    const memory = inMemoryProvider(() => clock.now());
    const replica = () =>
      new Scheduler(
        { list: async () => [{ id: 4242, account: { login: "acme", type: "Organization" } }], client: async () => fake.client() },
        { appId: APP_ID, now: () => clock.now(), providers: () => memory.provider },
        clock,
        quiet,
      );
    const [a, b] = [replica(), replica()];
    await Promise.all([a.rebuild(), b.rebuild()]);

    expect(memory.held.has("team:alice")).toBe(false);
    // Each replica may reach the provider (revoking is idempotent; one revoke across replicas
    // needs the shared Redis lock of docs/operations/replicas.md): never before expires_at, and the access is taken once.
    expect(memory.calls().every((at) => at >= EXPIRES)).toBe(true);
    expect(memory.removals()).toBe(1);
    const repo = fake.repos.get("acme/access")!;
    const reverts = [...repo.pulls.values()].filter((p) => p.headRef === `jit-access/revert-${number}`);
    expect(reverts).toHaveLength(1);
    expect(reverts[0]!.merged).toBe(true);
    expect(repo.git.resolve("main")!.tree.has("grants/prod-admins/alice.yaml")).toBe(false);

    const pull = fake.pull("acme/access", number);
    expect(pull.labels).toEqual(["jit:expired"]);
    const record = repo.checkRuns.find((r) => r.headSha === pull.headSha && r.appId === APP_ID)!;
    expect(readState(record.output.text)).toMatchObject({ status: "EXECUTED", revert_pr: reverts[0]!.number, revert_pending: false });
    // The end is recorded once: one EXECUTED text written, never overwritten by the other replica with another.
    const ends = new Set(record.history.map((h) => readState(h.text)).filter((s) => s?.status === "EXECUTED").map((s) => s!.revoked_at));
    expect(ends.size).toBe(1);
    const comments = pull.comments.filter((c) => c.appId === APP_ID && c.body.startsWith("<!-- jit-access:status -->"));
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toBe(record.output.text);
  });
});
