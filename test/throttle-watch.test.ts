import { describe, expect, it } from "@jest/globals";
import { retry } from "@octokit/plugin-retry";
import { Octokit } from "@octokit/rest";
import { runFenced } from "../src/cluster/fence.js";
import { instrumentClient } from "../src/cluster/instrument.js";
import { ThrottleLostError, ThrottleWatch } from "../src/cluster/throttle-watch.js";

/**
 * A request waiting in Probot's Redis-backed throttle when Redis goes away can wait for ever, and
 * its evaluation holds its request's place in the queue — a due revoke included. Found by the
 * replicas test (`service.replicas › Redis stops while grants are live…`), which hung about one run
 * in six: an evaluation had started just before Redis stopped.
 */
function clientBehindAThrottle(usable: () => boolean) {
  const sent: string[] = [];
  const fetch = async (url: string | URL | Request) => {
    sent.push(String(url));
    return new Response(JSON.stringify({ login: "acme" }), { status: 200, headers: { "content-type": "application/json" } });
  };
  const octokit = new Octokit({ request: { fetch } });
  // Stands in for Bottleneck's limiter in Redis: a request waits here until `letGo`.
  let letGo!: () => void;
  const turn = new Promise<void>((r) => (letGo = r));
  octokit.hook.wrap("request", async (request, options) => {
    await turn;
    return request(options);
  });
  const gh = instrumentClient(octokit, "4242", undefined, new ThrottleWatch(usable, 10, 30));
  return { gh, sent, letGo };
}

describe("requests stuck in the cluster's shared throttle", () => {
  it("are given up when the throttle becomes unusable, and never sent if it lets them go later", async () => {
    let redisUp = true;
    const { gh, sent, letGo } = clientBehindAThrottle(() => redisUp);
    const reply = gh.rest.orgs.get({ org: "acme" });
    await new Promise((r) => setTimeout(r, 50));
    redisUp = false;
    await expect(reply).rejects.toBeInstanceOf(ThrottleLostError);
    letGo();
    await new Promise((r) => setTimeout(r, 50));
    expect(sent).toEqual([]); // a late write could overwrite a newer record: it never leaves
  });

  it("leave alone a request that waits while the throttle works, however long", async () => {
    const { gh, sent, letGo } = clientBehindAThrottle(() => true);
    const reply = gh.rest.orgs.get({ org: "acme" });
    await new Promise((r) => setTimeout(r, 100));
    letGo();
    await expect(reply).resolves.toMatchObject({ data: { login: "acme" } });
    expect(sent).toEqual(["https://api.github.com/orgs/acme"]);
  });

  it("never touch a request that has left: its answer arrives whatever happens to Redis", async () => {
    let redisUp = true;
    const octokit = new Octokit({
      request: {
        fetch: async () => {
          redisUp = false; // Redis goes while GitHub is answering
          await new Promise((r) => setTimeout(r, 50));
          return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
        },
      },
    });
    const gh = instrumentClient(octokit, "4242", undefined, new ThrottleWatch(() => redisUp, 10, 30));
    await expect(gh.rest.orgs.get({ org: "acme" })).resolves.toMatchObject({ status: 200 });
  });
});

describe("requests stuck in the cluster's shared throttle, further cases", () => {
  it("are not given up for a blip: the throttle must stay unusable for the grace period", async () => {
    let redisUp = true;
    const { gh, letGo } = clientBehindAThrottle(() => redisUp);
    const reply = gh.rest.orgs.get({ org: "acme" });
    redisUp = false;
    await new Promise((r) => setTimeout(r, 15)); // shorter than the 30 ms grace
    redisUp = true;
    await new Promise((r) => setTimeout(r, 60));
    letGo();
    await expect(reply).resolves.toMatchObject({ data: { login: "acme" } });
  });

  it("are watched again when a retry waits in the throttle after a failed attempt, and never sent after", async () => {
    let redisUp = true;
    const sent: string[] = [];
    const fetch = async (url: string | URL | Request) => {
      sent.push(String(url));
      return new Response(JSON.stringify({ message: "bad gateway" }), { status: 502, headers: { "content-type": "application/json" } });
    };
    // The stand-in throttle is a plugin, so plugin-retry's retries pass through it as through Bottleneck.
    let passes = 0;
    let letGo!: () => void;
    const secondTurn = new Promise<void>((r) => (letGo = r));
    const throttle = (octokit: Octokit) => {
      octokit.hook.wrap("request", async (request, options) => {
        if (++passes > 1) await secondTurn;
        return request(options);
      });
    };
    const Retrying = Octokit.plugin(throttle as never, retry);
    const watch = new ThrottleWatch(() => redisUp, 10, 30);
    const gh = instrumentClient(new Retrying({ request: { fetch } }), "4242", undefined, watch);
    const reply = gh.rest.orgs.get({ org: "acme" });
    while (passes < 2) await new Promise((r) => setTimeout(r, 20)); // the first attempt failed; the retry waits
    redisUp = false;
    await expect(reply).rejects.toBeInstanceOf(ThrottleLostError);
    letGo();
    await new Promise((r) => setTimeout(r, 50));
    expect(sent).toEqual(["https://api.github.com/orgs/acme"]); // the first attempt only
    expect(watch.refusedLate).toBe(1);
  }, 10_000);
});

describe("the instrumented client's fence", () => {
  it("checks a job's lock when a write leaves, not when it was made; reads pass", async () => {
    const sent: string[] = [];
    const octokit = new Octokit({
      request: {
        fetch: async (url: string | URL | Request, init?: RequestInit) => {
          sent.push(`${init?.method ?? "GET"} ${String(url)}`);
          return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
        },
      },
    });
    const gh = instrumentClient(octokit, "4242", undefined, new ThrottleWatch(() => true, 10));
    const checked: string[] = [];
    const fence = { locked: true, check: async (effect: string) => { checked.push(effect); if (effect === "write") throw new Error("the lock was lost"); } };
    await runFenced(fence, async () => {
      await expect(gh.rest.orgs.get({ org: "acme" })).resolves.toMatchObject({ status: 200 });
      await expect(gh.rest.issues.createComment({ owner: "acme", repo: "access", issue_number: 7, body: "x" })).rejects.toThrow("the lock was lost");
    });
    expect(checked).toEqual(["write"]);
    expect(sent).toEqual(["GET https://api.github.com/orgs/acme"]);
  });
});
