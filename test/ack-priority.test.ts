import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import { KeyedQueue } from "../src/handlers/queue.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, seedLiveGrant } from "../testkit/live-grants.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { AckPriority } from "../src/http/ack-priority.js";
import { Scheduler } from "../src/scheduler/scheduler.js";
import { fixedClock } from "./helpers/app.js";

const quiet = { info() {}, warn() {}, error() {} };

/** A delivery being answered until the test lets it finish. */
function delivery(priority: AckPriority) {
  let finish!: () => void;
  const answered = priority.answering(() => new Promise<void>((r) => (finish = r)));
  return { finish, answered };
}

function watch(promise: Promise<void>) {
  const state = { done: false };
  void promise.then(() => (state.done = true));
  return state;
}

describe("webhook answers go before the work they bring", () => {
  beforeEach(() => void jest.useFakeTimers({ now: 0 }));
  afterEach(() => void jest.useRealTimers());
  const make = () => new AckPriority(10, 1_000, () => Date.now());

  it("lets work start at once when no delivery is being answered", async () => {
    const waited = watch(make().whenQuiet());
    await Promise.resolve();
    expect(waited.done).toBe(true);
  });

  it("holds work while deliveries are answered, and releases it once the route has been quiet for 10 ms", async () => {
    const priority = make();
    const first = delivery(priority);
    const second = delivery(priority);
    const waited = watch(priority.whenQuiet());
    await jest.advanceTimersByTimeAsync(500);
    expect(waited.done).toBe(false);
    first.finish();
    await first.answered;
    await jest.advanceTimersByTimeAsync(50);
    expect(waited.done).toBe(false); // the second is still being answered
    second.finish();
    await second.answered;
    await jest.advanceTimersByTimeAsync(9);
    expect(waited.done).toBe(false);
    await jest.advanceTimersByTimeAsync(2);
    expect(waited.done).toBe(true);
  });

  it("never starves the app: work waits one second at most, however busy the route stays", async () => {
    const priority = make();
    const endless = delivery(priority);
    const waited = watch(priority.whenQuiet());
    await jest.advanceTimersByTimeAsync(999);
    expect(waited.done).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(waited.done).toBe(true);
    endless.finish();
  });

  it("never delays an answer, and passes its result and failure through", async () => {
    const priority = make();
    const held = watch(priority.whenQuiet());
    delivery(priority); // in progress: the request above stays held
    await expect(priority.answering(async () => 202)).resolves.toBe(202);
    await expect(priority.answering(async () => Promise.reject(new Error("bad signature")))).rejects.toThrow("bad signature");
    expect(held.done).toBe(true); // it was let go before the delivery started
  });
});

describe("a webhook's evaluation starts after its turn; the scheduler's own work never waits for one", () => {
  it("reads nothing from GitHub until the turn comes", async () => {
    resetLiveGrantCaches();
    const fake = new FakeGitHub({ appId: 1, now: () => new Date("2026-11-29T12:00:00Z") });
    accessRepository(fake, ["alice"]);
    const number = await seedLiveGrant(fake, "alice", { appliedAt: new Date("2026-11-29T11:00:00Z"), expiresAt: new Date("2026-11-29T13:00:00Z") });
    fake.reset();
    const scheduler = new Scheduler({ list: async () => [], client: async () => fake.client() }, { appId: 1, now: () => new Date("2026-11-29T12:00:00Z"), providers: () => undefined }, fixedClock(new Date("2026-11-29T12:00:00Z")), quiet);
    let turn!: () => void;
    const held = new Promise<void>((r) => (turn = r));
    const evaluated = scheduler.enqueue(fake.client(), 4242, { owner: "acme", repo: "access", number }, quiet, true, () => held);
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.requests).toEqual([]);
    turn();
    await evaluated;
    expect(fake.requests[0]).toBe(`GET /repos/acme/access/pulls/${number}`);
  });
});

describe("webhook work held for a quiet route never holds the scheduler's work", () => {
  const never = () => new Promise<void>(() => {});

  it("keeps a due revoke queued behind a running job when a webhook for the same request arrives: the webhook never replaces it", async () => {
    const queue = new KeyedQueue(() => {});
    const ran: string[] = [];
    let finish!: () => void;
    void queue.enqueue("acme/access#7", () => new Promise<void>((r) => (finish = r)));
    const revoke = queue.enqueue("acme/access#7", async () => void ran.push("scheduler"));
    const webhook = queue.enqueue("acme/access#7", async () => void ran.push("webhook"), never);
    await new Promise((r) => setTimeout(r, 0)); // the first job has started
    finish();
    await Promise.all([revoke, webhook]); // the webhook's promise is kept by the run that covers it
    expect(ran).toEqual(["scheduler"]); // one run, unheld, which reads the state the webhook changed
  });

  it("lets a held run go at once when the scheduler's work for the same request arrives", async () => {
    const queue = new KeyedQueue(() => {});
    const ran: string[] = [];
    const webhook = queue.enqueue("acme/access#7", async () => void ran.push("webhook"), never);
    await new Promise((r) => setTimeout(r, 20));
    expect(ran).toEqual([]); // waiting for a quiet route
    const revoke = queue.enqueue("acme/access#7", async () => void ran.push("scheduler"));
    await Promise.all([webhook, revoke]);
    expect(ran).toEqual(["webhook", "scheduler"]);
  });

  it("keeps a run held when everything it stands for was", async () => {
    const queue = new KeyedQueue(() => {});
    let release!: () => void;
    const turn = new Promise<void>((r) => (release = r));
    const ran: string[] = [];
    let finish!: () => void;
    void queue.enqueue("acme/access#7", () => new Promise<void>((r) => (finish = r)));
    void queue.enqueue("acme/access#7", async () => void ran.push("first"), () => turn);
    const second = queue.enqueue("acme/access#7", async () => void ran.push("second"), () => turn);
    await new Promise((r) => setTimeout(r, 0)); // the first job has started
    finish();
    await new Promise((r) => setTimeout(r, 20));
    expect(ran).toEqual([]);
    release();
    await second;
    expect(ran).toEqual(["second"]);
  });
});
