import { describe, expect, it } from "@jest/globals";
import { semaphore } from "../src/scheduler/scheduler.js";

describe("the bookkeeping gate", () => {
  it("admits n holders; the next enters when one leaves; releasing twice frees one place only", async () => {
    const enter = semaphore(2);
    const order: string[] = [];
    const a = await enter();
    const b = await enter();
    const c = enter().then((release) => (order.push("c"), release));
    const d = enter().then((release) => (order.push("d"), release));
    await Promise.resolve();
    expect(order).toEqual([]); // both places taken
    a();
    a(); // a second release of the same holder changes nothing
    const releaseC = await c;
    await Promise.resolve();
    expect(order).toEqual(["c"]);
    b();
    const releaseD = await d;
    expect(order).toEqual(["c", "d"]);
    releaseC();
    releaseD();
    const e = await enter(); // places are free again
    e();
  });
});
