import { fork, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { evaluatePullRequest } from "../src/handlers/evaluate.js";
import { providerFactory } from "../src/providers/registry.js";
import { ACK_APP_ID, ACK_SECRET, ackWorld } from "./ack-world.js";
import type { Delivery } from "../testkit/fake-github.js";
import { ref } from "../testkit/live-grants.js";
import { percentile } from "./stats.js";

/**
 * Webhook ack latency (docs/reference/invariants.md, invariant 9). Three processes, as in production: GitHub (the
 * in-memory one, over HTTP), the app (a real Probot: its webhook middleware on an HTTP server,
 * HMAC-checked deliveries, its own Octokit with throttle and retries on — one write a second per
 * installation), and this one posting a burst of signed deliveries at once: each a `/jit revoke`
 * on a live grant, whose evaluation makes about ten writes. The handlers only enqueue, so each is
 * answered while the writes wait their turn. The backlog (some 1,000 throttled writes, ~17 min of
 * work) goes when the processes are stopped after the answers are measured.
 */
interface Reply {
  ms: number;
  status: number;
}

function start(script: string, args: string[]): ChildProcess {
  return fork(new URL(script, import.meta.url), args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

function next<T>(child: ChildProcess, kind: string, send?: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { kind: string }) => {
      if (m.kind !== kind) return;
      child.off("message", onMessage);
      resolve(m as T);
    };
    child.on("message", onMessage);
    child.once("exit", (code) => reject(new Error(`benchmark process exited (${code}) before "${kind}"`)));
    if (send) child.send(send);
  });
}

function post(agent: Agent, port: number, d: Delivery): Promise<Reply> {
  const body = JSON.stringify(d.payload);
  const signature = `sha256=${createHmac("sha256", ACK_SECRET).update(body).digest("hex")}`;
  const headers = { "content-type": "application/json", "x-github-event": d.name, "x-github-delivery": d.id, "x-hub-signature-256": signature };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ agent, port, host: "127.0.0.1", method: "POST", path: "/api/github/webhooks", headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({ ms: performance.now() - started, status: res.statusCode ?? 0 }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Requests and writes of one such evaluation (no throttle: the count, not the time). */
export async function revokeEvaluationCost(): Promise<{ requests: number; writes: number }> {
  const { fake } = await ackWorld(["solo"]);
  await evaluatePullRequest(fake.client(), { ...ref, number: 1 }, { appId: ACK_APP_ID, now: () => new Date(), providers: providerFactory({}) }, { info() {}, warn() {}, error() {} });
  return { requests: fake.requests.length, writes: fake.requests.filter((r) => !r.startsWith("GET")).length };
}

/** One burst against a fresh GitHub and app; the answers' times. */
async function burst(count: number, variant: "app" | "baseline"): Promise<{ ms: number[]; statuses: string; revokes: number; errors: number }> {
  const github = start("./ack-github-process.js", [String(count)]);
  const { url, deliveries } = await next<{ url: string; deliveries: Delivery[] }>(github, "ready");
  const probot = start("./ack-app-process.js", [url, variant]);
  try {
    const { port } = await next<{ port: number }>(probot, "ready");
    const agent = new Agent({ keepAlive: true, maxSockets: count });
    const replies = await Promise.all(deliveries.map((d) => post(agent, port, d)));
    agent.destroy();
    const { revokes } = await next<{ revokes: number }>(github, "count", { kind: "count" });
    const { errors } = await next<{ errors: number }>(probot, "errors", { kind: "errors" });
    return { ms: replies.map((r) => r.ms).sort((a, b) => a - b), statuses: [...new Set(replies.map((r) => r.status))].join(", "), revokes, errors };
  } finally {
    probot.kill();
    github.kill();
  }
}

/**
 * Rounds alternate between the app and a baseline (the same Probot, a handler doing nothing), so
 * both see the same machine; figures are medians over rounds, and the app's as a ratio to Probot's.
 */
export async function benchAckLatency(count = 100, rounds = 5): Promise<string[]> {
  const cost = await revokeEvaluationCost();
  const figures = { app: { p50: [] as number[], p99: [] as number[] }, baseline: { p50: [] as number[], p99: [] as number[] } };
  const notes = new Set<string>();
  for (let round = 1; round <= rounds; round++) {
    for (const variant of ["baseline", "app"] as const) {
      const b = await burst(count, variant);
      figures[variant].p50.push(percentile(b.ms, 50));
      figures[variant].p99.push(percentile(b.ms, 99));
      notes.add(`${variant}: HTTP ${b.statuses}, ${b.errors} webhook error(s)${variant === "app" ? `, ${b.revokes} revoke(s) done before the last answer` : ""}`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const [app50, app99, base50, base99] = [median(figures.app.p50), median(figures.app.p99), median(figures.baseline.p50), median(figures.baseline.p99)];
  return [
    `${count} deliveries at once, medians of ${rounds} rounds: the app's ack p50 ${app50.toFixed(1)} ms, p99 ${app99.toFixed(1)} ms — ${app99 < 250 ? "within" : "OVER"} the 250 ms goal`,
    `  Probot with a handler that does nothing, same rounds: p50 ${base50.toFixed(1)} ms, p99 ${base99.toFixed(1)} ms; the app / that: p50 ×${(app50 / base50).toFixed(2)}, p99 ×${(app99 / base99).toFixed(2)}`,
    `  p99 by round — app: ${figures.app.p99.map((x) => x.toFixed(0)).join(", ")} ms; baseline: ${figures.baseline.p99.map((x) => x.toFixed(0)).join(", ")} ms`,
    ...[...notes].map((n) => `  ${n}`),
    `each evaluation (a /jit revoke on a live grant): ${cost.requests} requests, ${cost.writes} of them writes; at one write a second the burst is ${cost.writes * count} s of writes, none of which an answer waits for`,
  ];
}
