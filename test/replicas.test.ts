import { beforeEach, describe, expect, it } from "@jest/globals";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { FakeGitHub, emptyPull, blobSha } from "../src/bench/fake-github.js";
import { embedState, readState, type CommentState } from "../src/lifecycle/state-block.js";
import type { Provider } from "../src/providers/types.js";
import { Scheduler } from "../src/scheduler/scheduler.js";
import { fixedClock } from "./helpers/app.js";
import { POLICY, grantYaml } from "./helpers/fixtures.js";

/**
 * Two replicas of the app at once, against one stateful in-memory GitHub (with latency, so
 * their requests interleave): each end of a grant happens once.
 */
const APP_ID = 1;
const quiet = { info() {}, warn() {}, error() {} };

function inMemoryProvider() {
  const held = new Set<string>(["team:alice"]);
  let removals = 0;
  const provider: Provider = {
    units: (t) => [`team:${t.requester}`],
    held: async (t) => (held.has(`team:${t.requester}`) ? [`team:${t.requester}`] : []),
    apply: async (t) => void held.add(`team:${t.requester}`),
    revoke: async (_t, units) => {
      for (const u of units) if (held.delete(u)) removals++;
    },
    describe: () => "in-memory access",
  };
  return { provider, held, removals: () => removals };
}

beforeEach(() => resetLiveGrantCaches());

describe("two replicas at once", () => {
  it.each([0, 1, 3])("revoke once, open and merge one revert PR, and label the request once (%i ms a request)", async (latency) => {
    const fake = new FakeGitHub(APP_ID);
    fake.latencyMs = latency;
    const content = grantYaml({ resource: "prod-admins", role: "member", duration: "2h" });
    const path = "grants/prod-admins/alice-1.yaml";
    const state: CommentState = {
      v: 1, status: "APPROVED", path, blob: blobSha(content),
      grant: { requester: "alice", resource: "prod-admins", role: "member", duration: "2h", reason: "Investigate INC-4211" },
      standing: [], applied_at: "2026-11-29T13:00:00.000Z", starts_at: "2026-11-29T13:00:00.000Z", expires_at: "2026-11-29T15:00:00.000Z",
      warned_at: "2026-11-29T14:50:00.000Z", target: { provider: "memory", config: {}, grant: {} },
    };
    const pull = { ...emptyPull(7, "alice"), state: "closed" as const, merged: true, labels: ["jit:approved"], createdAt: "2026-11-29T12:00:00Z",
      files: [{ filename: path, status: "added", content }], comments: [{ id: 55, byApp: true, login: "jit-access[bot]", body: embedState("granted", state) }] };
    fake.repos.set("acme/access", {
      owner: "acme", repo: "access", checkRuns: [], pulls: new Map([[7, pull]]),
      files: new Map([["main", new Map([[".github/jit-access.yml", POLICY], [path, content]])]]),
    });
    const memory = inMemoryProvider();
    const replica = () =>
      new Scheduler(
        { list: async () => [{ id: 1, account: { login: "acme", type: "Organization" } }], client: async () => fake.client() },
        { appId: APP_ID, now: () => new Date("2026-11-29T15:00:01Z"), providers: () => memory.provider },
        fixedClock(new Date("2026-11-29T15:00:01Z")),
        quiet,
      );
    const [a, b] = [replica(), replica()];
    await Promise.all([a.rebuild(), b.rebuild()]);

    expect(memory.held.has("team:alice")).toBe(false);
    expect(memory.removals()).toBe(1);
    const reverts = [...fake.repos.get("acme/access")!.pulls.values()].filter((p) => p.headRef === "jit-access/revert-7");
    expect(reverts).toHaveLength(1);
    expect(reverts[0]!.merged).toBe(true);
    expect(pull.labels).toEqual(["jit:expired"]);
    expect(readState(pull.comments[0]!.body)).toMatchObject({ status: "EXECUTED", revert_pr: reverts[0]!.number, revert_pending: false });
    // The second replica may try to open it too: GitHub refuses (422) and it finds the first one.
  });
});
