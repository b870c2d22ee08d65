import { Probot } from "probot";
import { createApp, type JitApp } from "../../src/app.js";
import type { Delivery, FakeGitHub } from "../../testkit/fake-github.js";
import type { Provider } from "../../src/providers/types.js";
import { privateKey, TestOctokit } from "../helpers/app.js";
import type { WorldClock } from "./clock.js";

/**
 * One running app: a real Probot (app auth, installation tokens, webhook dispatch through
 * `receive`) whose HTTP goes to the in-memory GitHub, and the app loaded into it as `probot run`
 * would. Its errors are collected, so a test can say none happened.
 */
/** A logger with pino's shape that keeps warnings and errors. */
export function collectingLog(errors: string[], warnings: string[] = []) {
  const text = (a: unknown, b?: unknown) => (typeof a === "string" ? a : `${String(b ?? "")} ${(a as { err?: Error })?.err?.message ?? (a instanceof Error ? a.message : "")}`.trim());
  const log: Record<string, unknown> = {
    level: "info",
    trace() {},
    debug() {},
    info() {},
    warn: (a: unknown, b?: unknown) => void warnings.push(text(a, b)),
    error: (a: unknown, b?: unknown) => void errors.push(text(a, b)),
    fatal: (a: unknown, b?: unknown) => void errors.push(text(a, b)),
  };
  log.child = () => log;
  return log;
}

export class AppInstance {
  /** Rebuilds and sweeps started and not yet finished (they may wait for a timer). */
  readonly background = new Set<Promise<unknown>>();
  private constructor(
    readonly name: string,
    readonly probot: Probot,
    readonly app: JitApp,
    private readonly clock: ReturnType<WorldClock["view"]>,
    readonly errors: string[],
    readonly warnings: string[],
  ) {}

  static async start(name: string, fake: FakeGitHub, world: WorldClock, appId: number, provider: Provider): Promise<AppInstance> {
    const clock = world.view();
    const errors: string[] = [];
    const warnings: string[] = [];
    const probot = new Probot({ appId, privateKey, Octokit: TestOctokit, request: { fetch: fake.fetch }, log: collectingLog(errors, warnings) as never });
    const app = createApp({ appId, clock, providers: (name) => (name === "postgres" ? provider : undefined), sweepSchedule: null });
    await probot.load(app);
    return new AppInstance(name, probot, app, clock, errors, warnings);
  }

  /** As GitHub posts a webhook: Probot dispatches it to the app's handlers, which only enqueue. */
  deliver(d: Delivery): Promise<void> {
    return this.probot.receive({ id: d.id, name: d.name, payload: d.payload } as Parameters<Probot["receive"]>[0]);
  }

  rebuild(): void {
    this.run(this.app.scheduler.rebuild());
  }

  sweep(): void {
    this.run(this.app.scheduler.sweep());
  }

  /** Nothing queued or running here, and no rebuild or sweep in progress. */
  get idle(): boolean {
    return this.app.queue.depth === 0 && this.background.size === 0;
  }

  stop(): void {
    this.app.scheduler.stop();
    this.clock.dispose();
  }

  private run(work: Promise<unknown>): void {
    const tracked: Promise<unknown> = work.catch((error: unknown) => this.errors.push(`background: ${(error as Error).message}`)).finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }
}
