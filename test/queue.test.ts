import { describe, expect, it } from "@jest/globals";
import { KeyedQueue } from "../src/handlers/queue.js";

/** A job that waits until the test lets it finish, and records when it ran. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe("the keyed queue: one evaluation at a time per request", () => {
  it("never runs two jobs of one key at once, and coalesces everything queued meanwhile into one more run", async () => {
    const queue = new KeyedQueue(() => {});
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const first = gate();
    const job = (name: string, wait?: Promise<void>) => async () => {
      running++;
      most = Math.max(most, running);
      log.push(`start ${name}`);
      await wait;
      log.push(`end ${name}`);
      running--;
    };
    const a = queue.enqueue("acme/access#7", job("a", first.opened));
    const b = queue.enqueue("acme/access#7", job("b"));
    const c = queue.enqueue("acme/access#7", job("c"));
    const d = queue.enqueue("acme/access#7", job("d"));
    expect(queue.depth).toBe(2); // one running, one waiting: the rest coalesced into it
    first.open();
    await Promise.all([a, b, c, d]);
    expect(most).toBe(1);
    // b and c were replaced by d: after a, exactly one more run, which re-reads everything anyway.
    expect(log).toEqual(["start a", "end a", "start d", "end d"]);
    await queue.idle();
    expect(queue.depth).toBe(0);
  });

  it("a job that may skip its work (a webhook of the app's own doing) never replaces one queued for another reason", async () => {
    const queue = new KeyedQueue(() => {});
    const log: string[] = [];
    const first = gate();
    const job = (name: string, wait?: Promise<void>) => async () => {
      log.push(name);
      await wait;
    };
    const a = queue.enqueue("acme/access#7", job("a", first.opened));
    const review = queue.enqueue("acme/access#7", job("review"));
    const own = queue.enqueue("acme/access#7", job("own"), undefined, { skipIf: () => true });
    first.open();
    await Promise.all([a, review, own]);
    // The review's evaluation covers the app's own webhook; the reverse would lose the review.
    expect(log).toEqual(["a", "review"]);
    // Queued alone, it runs; a later job replaces it as any other.
    const second = gate();
    const b = queue.enqueue("acme/access#7", job("b", second.opened));
    const own2 = queue.enqueue("acme/access#7", job("own2"), undefined, { skipIf: () => false });
    const later = queue.enqueue("acme/access#7", job("later"));
    second.open();
    await Promise.all([b, own2, later]);
    expect(log).toEqual(["a", "review", "b", "later"]);
  });

  it("two such jobs coalesced run unless both find their work done; alone, one that finds it done is skipped", async () => {
    const queue = new KeyedQueue(() => {});
    const log: string[] = [];
    const job = (name: string, wait?: Promise<void>) => async () => {
      log.push(name);
      await wait;
    };
    const first = gate();
    const a = queue.enqueue("acme/access#7", job("a", first.opened));
    const seen = queue.enqueue("acme/access#7", job("seen"), undefined, { skipIf: () => true });
    const notSeen = queue.enqueue("acme/access#7", job("not seen"), undefined, { skipIf: () => false });
    first.open();
    await Promise.all([a, seen, notSeen]);
    expect(log).toEqual(["a", "seen"]); // the coalesced run: one of its two webhooks had something to say
    await queue.enqueue("acme/access#8", job("alone"), undefined, { skipIf: () => true });
    expect(log).toEqual(["a", "seen"]);
  });

  it("runs different keys in parallel", async () => {
    const queue = new KeyedQueue(() => {});
    const hold = gate();
    const started: string[] = [];
    const a = queue.enqueue(KeyedQueue.key({ owner: "acme", repo: "access", number: 7 }), async () => {
      started.push("7");
      await hold.opened;
    });
    const b = queue.enqueue(KeyedQueue.key({ owner: "acme", repo: "access", number: 8 }), async () => void started.push("8"));
    await b; // finished while #7 is still held
    expect(started).toEqual(["7", "8"]);
    hold.open();
    await a;
  });

  it("keys are case-insensitive, as GitHub's owner and repository names are", () => {
    expect(KeyedQueue.key({ owner: "ACME", repo: "Access", number: 7 })).toBe(KeyedQueue.key({ owner: "acme", repo: "access", number: 7 }));
  });

  it("a failing job is reported, never thrown at whoever queued it, and the key runs again afterwards", async () => {
    const errors: string[] = [];
    const queue = new KeyedQueue((key, error) => errors.push(`${key}: ${(error as Error).message}`));
    await expect(queue.enqueue("k", async () => { throw new Error("GitHub said 502"); })).resolves.toBeUndefined();
    let ran = false;
    await queue.enqueue("k", async () => void (ran = true));
    expect(errors).toEqual(["k: GitHub said 502"]);
    expect(queue.failures).toBe(1);
    expect(ran).toBe(true);
  });

  it("idle() waits for the coalesced run too", async () => {
    const queue = new KeyedQueue(() => {});
    const hold = gate();
    const done: string[] = [];
    void queue.enqueue("k", async () => { await hold.opened; done.push("first"); });
    void queue.enqueue("k", async () => void done.push("second"));
    const idle = queue.idle();
    hold.open();
    await idle;
    expect(done).toEqual(["first", "second"]);
  });
});
