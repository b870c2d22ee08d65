import { beforeEach, describe, expect, it } from "@jest/globals";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref, seedLiveGrant } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { recordKey } from "../src/github/record.js";
import { KeyedQueue } from "../src/handlers/queue.js";
import { readState } from "../src/lifecycle/codec.js";
import type { Provider } from "../src/providers/types.js";
import { Scheduler } from "../src/scheduler/scheduler.js";
import { fixedClock } from "./helpers/app.js";

/**
 * Issue #13, item 3: "the original's status comment links to the extension". Against the stateful
 * in-memory GitHub, whose timeline gives `cross-referenced` events as GitHub does: alice's live
 * grant (#1, until 14:00), then requests that say "Extends #1". Only one that asks to continue
 * the same access from 14:00 — as its own record, written by the app, shows — gets linked.
 */
const NOW = new Date("2026-11-29T13:00:00Z");
const quiet = { info() {}, warn() {}, error() {} };
const memory = (): Provider => ({ units: (t) => [`team:${t.requester}`], held: async () => [], apply: async () => {}, revoke: async () => {}, describe: () => "in-memory access" });

beforeEach(() => resetLiveGrantCaches());

function world(onError = (key: string, error: unknown): void => {
  throw new Error(`evaluation of ${key} failed: ${(error as Error).message}`);
}) {
  const fake = new FakeGitHub({ appId: 1, now: () => NOW });
  accessRepository(fake, ["alice", "bob"]);
  const queue = new KeyedQueue(onError);
  const scheduler = new Scheduler({ list: async () => [], client: async () => fake.client() }, { appId: 1, now: () => NOW, providers: () => memory() }, fixedClock(NOW), quiet, queue);
  /** A webhook's evaluation of #n, and everything it queues after it. */
  const evaluate = async (number: number) => {
    await scheduler.enqueue(fake.client(), 4242, { ...ref, number });
    await queue.idle();
  };
  const comment = (number: number) => fake.pull("acme/access", number).comments.find((c) => c.appId === 1)?.body ?? "";
  const run = (number: number) => fake.repo("acme", "access")!.checkRuns.filter((r) => r.externalId === recordKey({ repoId: fake.repo("acme", "access")!.id, number })).sort((a, b) => b.id - a.id)[0];
  const record = (number: number) => readState(run(number)?.output.text ?? "");
  return { fake, evaluate, comment, record, run, scheduler };
}

const grant = (requester: string, o: { start?: string; role?: string } = {}) =>
  `requester: ${requester}\nresource: prod-admins\nrole: ${o.role ?? "member"}\nduration: 1h\nreason: "the migration overran"\n${o.start ? `start: "${o.start}"\n` : ""}`;

describe("the original's status comment links to its extension", () => {
  it("links a request that continues the same access from the original's end, once its record says so", async () => {
    const w = world();
    const original = await seedLiveGrant(w.fake, "alice", { appliedAt: new Date("2026-11-29T12:00:00Z"), expiresAt: new Date("2026-11-29T14:00:00Z") });
    const extension = (await openRequest(w.fake.as("alice"), ref, {
      branch: "extend-alice", path: "grants/prod-admins/alice-2.yaml", content: grant("alice", { start: "2026-11-29T14:00:00Z" }),
      body: `Extends #${original}: starts when its window ends, at 2026-11-29T14:00:00Z.`,
    }))!;
    w.fake.reset();

    await w.evaluate(extension);

    expect(w.record(extension)?.status).toBe("PENDING");
    expect(w.record(original)?.extended_by).toEqual([extension]);
    expect(w.comment(original)).toContain(`➡️ **Continued by** #${extension}`);
    expect(w.comment(original)).toBe(w.run(original)!.output.text); // the display shows the record
    // The original was evaluated once more: its usual reads, plus the extension's head and check run.
    const originalReads = w.fake.requests.slice(w.fake.requests.indexOf(`GET /repos/acme/access/pulls/${original}`));
    expect(originalReads.filter((r) => r === `GET /repos/acme/access/pulls/${extension}`)).toHaveLength(1);
    expect(readState(w.comment(original))?.status).toBe("APPROVED"); // access unchanged: a link is a display

    // Evaluated again, the original checks its link (two reads) and, unchanged, writes nothing.
    w.fake.reset();
    await w.evaluate(original);
    expect(w.fake.requests.filter((r) => r === `GET /repos/acme/access/pulls/${extension}`)).toHaveLength(1);
    expect(w.fake.requests.filter((r) => !r.startsWith("GET "))).toEqual([]);
    expect(w.comment(original)).toContain(`#${extension}`);

    // The extension is withdrawn (closed unmerged: rejected): the link goes, as its record now says.
    await w.fake.as("alice").rest.pulls.update({ ...ref, pull_number: extension, state: "closed" });
    await w.evaluate(extension);
    expect(w.record(extension)?.status).toBe("REJECTED");
    expect(w.record(original)?.extended_by).toBeUndefined();
    expect(w.comment(original)).not.toContain("Continued by");
    expect(w.record(original)?.status).toBe("APPROVED");
  });

  it("links nothing that merely says so: another person's request, a later start, no start", async () => {
    const w = world();
    const original = await seedLiveGrant(w.fake, "alice", { appliedAt: new Date("2026-11-29T12:00:00Z"), expiresAt: new Date("2026-11-29T14:00:00Z") });
    const body = `Extends #${original}: starts when its window ends.`;
    const others = [
      await openRequest(w.fake.as("bob"), ref, { branch: "bob", path: "grants/prod-admins/bob-1.yaml", content: grant("bob", { start: "2026-11-29T14:00:00Z" }), body }),
      await openRequest(w.fake.as("alice"), ref, { branch: "later", path: "grants/prod-admins/alice-3.yaml", content: grant("alice", { start: "2026-11-29T15:00:00Z" }), body }),
      await openRequest(w.fake.as("alice"), ref, { branch: "now", path: "grants/prod-admins/alice-4.yaml", content: grant("alice"), body }),
    ];
    for (const n of others) await w.evaluate(n!);
    for (const n of others) expect(w.record(n!)?.status).toBe("PENDING"); // each judged as a request of its own
    expect(w.record(original)?.extended_by).toBeUndefined();
    expect(w.comment(original)).not.toContain("Continued by");
  });
});

describe("a body that names no pull request", () => {
  it("costs one read when the request's status changes, and is not retried", async () => {
    const failed: string[] = [];
    const w = world((key) => void failed.push(key));
    const number = (await openRequest(w.fake.as("alice"), ref, {
      branch: "ghost", path: "grants/prod-admins/alice-5.yaml", content: grant("alice", { start: "2026-11-29T14:00:00Z" }), body: "Extends #999: starts when its window ends.",
    }))!;
    w.fake.reset();
    await w.evaluate(number);
    expect(w.record(number)?.status).toBe("PENDING");
    expect(failed).toEqual(["acme/access#999"]); // logged, like any failed evaluation
    expect(w.fake.requests.filter((r) => r === "GET /repos/acme/access/pulls/999")).toHaveLength(1);
    expect(w.scheduler.index.size).toBe(0); // nothing scheduled to try #999 again a minute later
  });
});
