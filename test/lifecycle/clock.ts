import type { Clock } from "../../src/scheduler/scheduler.js";

/**
 * One time for the whole world (GitHub, every app instance, the target), moved only by the test.
 * Each app instance gets a view whose timers are its own, so a stopped instance's timers go with it.
 * Timers fire in time order, each at its own moment, as real time would pass.
 */
interface Timer {
  fn: () => void;
  at: number;
  seq: number;
  owner: object;
}

export class WorldClock {
  private timers: Timer[] = [];
  private seq = 0;
  /** Timers ever set: a sign of life while waiting for work to settle. */
  get activity(): number {
    return this.seq;
  }

  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  set(t: number): void {
    if (t < this.t) throw new Error("time does not go back");
    this.t = t;
  }

  nextAt(): number | undefined {
    return this.timers.reduce<number | undefined>((min, x) => (min === undefined || x.at < min ? x.at : min), undefined);
  }

  /** Fires the timers due now, earliest first; how many fired. */
  fireDue(): number {
    const due = this.timers.filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.fn();
    return due.length;
  }

  view(): Clock & { dispose(): void } {
    const owner = {};
    return {
      now: () => new Date(this.t),
      setTimeout: (fn, ms) => {
        const timer = { fn, at: this.t + Math.max(0, ms), seq: ++this.seq, owner };
        this.timers.push(timer);
        return timer;
      },
      clearTimeout: (handle) => {
        this.timers = this.timers.filter((x) => x !== handle);
      },
      dispose: () => {
        this.timers = this.timers.filter((x) => x.owner !== owner);
      },
    };
  }
}
