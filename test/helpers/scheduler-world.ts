import { KeyedQueue } from "../../src/handlers/queue.js";
import type { AppDeps } from "../../src/handlers/evaluate.js";
import { providerFactory } from "../../src/providers/registry.js";
import { Scheduler } from "../../src/scheduler/scheduler.js";
import { FakeGitHub } from "../../testkit/fake-github.js";
import { accessRepository, ref } from "../../testkit/live-grants.js";
import { fixedClock } from "./app.js";

const quiet = { info() {}, warn() {}, error() {} };

/**
 * An access repository on the in-memory GitHub (alice and the other `people` request; carol, of
 * @acme/platform, approves), each request evaluated through the scheduler's keyed queue as a
 * webhook's would be. An evaluation that fails fails the test; alerts are collected.
 */
export function schedulerWorld(o: { start?: Date; people?: string[]; deps?: Partial<AppDeps> } = {}) {
  const clock = fixedClock(o.start ?? new Date("2026-11-29T12:00:00Z"));
  const fake = new FakeGitHub({ appId: 1, now: () => clock.now() });
  accessRepository(fake, o.people ?? ["alice", "carol"]);
  fake.addMember("acme/platform", "carol");
  const alerts: string[] = [];
  const queue = new KeyedQueue((key, error) => {
    throw new Error(`evaluation of ${key} failed: ${(error as Error).message}`);
  });
  const deps = { appId: 1, now: () => clock.now(), providers: providerFactory({}), onAlert: (_kind: string, message: string) => void alerts.push(message), ...o.deps };
  const scheduler = new Scheduler({ list: async () => [], client: async () => fake.client() }, deps, clock, quiet, queue);
  const evaluate = async (number: number) => {
    await scheduler.enqueue(fake.client(), 4242, { ...ref, number });
    await queue.idle();
  };
  return { clock, fake, queue, scheduler, evaluate, alerts };
}
