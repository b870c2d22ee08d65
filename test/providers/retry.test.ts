import { describe, expect, it } from "@jest/globals";
import { nextWaitMs, RetryableFailure, retryAfterMs, withRetries } from "../../src/providers/retry.js";

describe("Retry-After (pure)", () => {
  const now = Date.parse("2026-11-29T13:00:00Z");
  it("reads delay-seconds and HTTP dates; nothing else", () => {
    expect(retryAfterMs("120", now)).toBe(120_000);
    expect(retryAfterMs(" 0 ", now)).toBe(0);
    expect(retryAfterMs("Sun, 29 Nov 2026 13:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterMs("Sun, 29 Nov 2026 12:00:00 GMT", now)).toBe(0); // a date in the past: no wait
    for (const bad of [undefined, null, "", "soon", "-5", "1.5"]) expect(retryAfterMs(bad, now)).toBeUndefined();
  });

  it("the wait is the longer of the backoff and what the server asked", () => {
    expect(nextWaitMs(500, undefined)).toBe(500);
    expect(nextWaitMs(500, 2_000)).toBe(2_000);
    expect(nextWaitMs(8_000, 2_000)).toBe(8_000);
  });
});

describe("withRetries", () => {
  it("tries once more per backoff step, then rejects with the last failure", async () => {
    const seen: string[] = [];
    let n = 0;
    const error = await withRetries([0, 0], async () => {
      throw new RetryableFailure(`HTTP 50${++n}`);
    }, (e) => seen.push(e.message)).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: "HTTP 503" });
    expect(seen).toEqual(["HTTP 501", "HTTP 502", "HTTP 503"]);
  });

  it("an error that is not a RetryableFailure (a bug) is not retried", async () => {
    let n = 0;
    await expect(withRetries([0, 0], async () => {
      n++;
      throw new RangeError("bug");
    })).rejects.toThrow("bug");
    expect(n).toBe(1);
  });
});
