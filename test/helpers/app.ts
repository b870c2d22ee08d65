import { generateKeyPairSync } from "node:crypto";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Probot, ProbotOctokit } from "probot";
import { createApp, type JitApp } from "../../src/app.js";
import { parseAccessRepositories } from "../../src/config.js";
import type { Clock } from "../../src/scheduler/scheduler.js";
import type { Notifier } from "../../src/notify/deliver.js";
import { providerFactory } from "../../src/providers/registry.js";
import { INSTALLATION_ID } from "./payloads.js";
import type nock from "nock";

export const APP_ID = 123;

// A real RSA key: Probot signs a real JWT for the app-auth flow, which the token mock answers.
export const { privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});

/**
 * Retries and throttling off, so a mocked error surfaces at once and comment creation is not
 * spaced 3 s apart. An object default would not do: Probot wraps this class with defaults of
 * its own whose `throttle` object replaces ours; a function default runs after that wrapper.
 */
export const TestOctokit = ProbotOctokit.defaults((options: Record<string, any>) => ({
  ...options,
  retry: { ...options.retry, enabled: false },
  throttle: { ...options.throttle, enabled: false },
}));

/** A Probot instance running the app, as `probot run` would, with the clock fixed at `now`. */
export async function startApp(now: Date, env: Record<string, string> = {}): Promise<Probot> {
  return (await startAppWithScheduler(fixedClock(now), env)).probot;
}

/** A clock that stays where the test puts it; timers are collected, and fire only when the test says. */
export interface ManualClock extends Clock {
  set(date: Date): void;
  timers: { fn: () => void; at: number }[];
}

export function fixedClock(start: Date): ManualClock {
  let now = start.getTime();
  const timers: { fn: () => void; at: number }[] = [];
  return {
    now: () => new Date(now),
    set: (date) => {
      now = date.getTime();
    },
    timers,
    setTimeout: (fn, ms) => {
      const timer = { fn, at: now + ms };
      timers.push(timer);
      return timer;
    },
    clearTimeout: (handle) => {
      const i = timers.indexOf(handle as { fn: () => void; at: number });
      if (i >= 0) timers.splice(i, 1);
    },
  };
}

/**
 * `env` gives the providers their settings and, as in production, JIT_ACCESS_REPOSITORIES;
 * `log`, when given, receives every log line (a real pino logger writing to it), at level info;
 * `extra` sets any other option of the app (an `onAlert` hook).
 */
export async function startAppWithScheduler(
  clock: Clock,
  env: Record<string, string> = {},
  notifier?: Notifier,
  log?: { level: string; msg: string }[],
  extra: Partial<Parameters<typeof createApp>[0]> = {},
): Promise<{ probot: Probot; app: JitApp }> {
  const probot = new Probot({
    appId: APP_ID,
    privateKey,
    Octokit: TestOctokit,
    ...(log ? { log: capturingLogger(log) } : { logLevel: (process.env.TEST_LOG_LEVEL ?? "fatal") as "fatal" }),
  });
  const repositories = parseAccessRepositories(env.JIT_ACCESS_REPOSITORIES);
  if (!repositories.ok) throw new Error(repositories.error);
  const app = createApp({
    appId: APP_ID,
    clock,
    providers: providerFactory(env, { backoffMs: [10], timeoutMs: 2_000 }),
    repositories: repositories.repositories,
    sweepSchedule: null,
    ...(notifier ? { notifier } : {}),
    ...extra,
  });
  await probot.load(app);
  running.set(probot, app);
  return { probot, app };
}

function capturingLogger(into: { level: string; msg: string }[]) {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const line = JSON.parse(chunk.toString("utf8")) as { level: number; msg: string };
      into.push({ level: pino.levels.labels[line.level] ?? String(line.level), msg: line.msg });
      done();
    },
  });
  return pino({ level: "info" }, destination);
}

/** The installation token exchange Probot performs before its first API call for an event. */
export function mockInstallationToken(api: nock.Scope): void {
  api.post(`/app/installations/${INSTALLATION_ID}/access_tokens`).reply(201, {
    token: "ghs_installation_token_for_tests",
    expires_at: "2099-01-01T00:00:00Z",
    permissions: { checks: "write", contents: "write", pull_requests: "write", issues: "read", members: "read", metadata: "read" },
    repository_selection: "all",
  });
}

/** The app each test Probot runs: `deliver` waits for the evaluations a delivery queued. */
const running = new WeakMap<Probot, JitApp>();

let deliveries = 0;
/**
 * Delivers a webhook as Probot would, then waits until the evaluations it queued have finished
 * (the handler itself only queues them and returns at once).
 */
export async function deliver(probot: Probot, name: string, payload: Record<string, unknown>, options: { failing?: boolean } = {}): Promise<void> {
  const app = running.get(probot);
  const failures = app?.queue.failures ?? 0;
  await probot.receive({ id: `delivery-${++deliveries}`, name, payload } as Parameters<Probot["receive"]>[0]);
  await app?.queue.idle();
  // An evaluation that throws is logged, not seen by the handler: a test sees it here.
  if (app && app.queue.failures > failures && !options.failing) {
    const { key, error } = app.queue.lastFailure!;
    throw new Error(`the evaluation of ${key} queued by this ${name} delivery failed: ${(error as Error).message}`);
  }
}
