import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import { Octokit } from "@octokit/rest";
import { instrumentClient } from "../src/cluster/instrument.js";
import { AckPriority } from "../src/http/ack-priority.js";

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

describe("webhook answers go before the app's own GitHub requests", () => {
  beforeEach(() => void jest.useFakeTimers({ now: 0 }));
  afterEach(() => void jest.useRealTimers());
  const make = () => new AckPriority(10, 1_000, () => Date.now());

  it("lets a request go at once when no delivery is being answered", async () => {
    const waited = watch(make().whenQuiet());
    await Promise.resolve();
    expect(waited.done).toBe(true);
  });

  it("holds a request while deliveries are answered, and releases it once the route has been quiet for 10 ms", async () => {
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

  it("never starves the app: a request waits one second at most, however busy the route stays", async () => {
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
    expect(held.done).toBe(true); // it was released before the delivery started
  });
});

describe("the app's GitHub client waits for its turn before each request leaves", () => {
  it("sends nothing until beforeSend resolves", async () => {
    let release!: () => void;
    const turn = new Promise<void>((r) => (release = r));
    const sent: string[] = [];
    const fetch = async (url: string | URL | Request) => {
      sent.push(String(url));
      return new Response(JSON.stringify({ login: "acme" }), { status: 200, headers: { "content-type": "application/json" } });
    };
    const gh = instrumentClient(new Octokit({ request: { fetch } }), "1", undefined, () => turn);
    const reply = gh.rest.orgs.get({ org: "acme" });
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
    release();
    await expect(reply).resolves.toMatchObject({ data: { login: "acme" } });
    expect(sent).toEqual(["https://api.github.com/orgs/acme"]);
  });
});
