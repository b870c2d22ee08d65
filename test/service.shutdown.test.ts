import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sign } from "@octokit/webhooks-methods";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { freePort } from "../testkit/redis-server.js";
import { buildApp } from "./helpers/built-app.js";

/**
 * A pod's life, with the real server process (`node lib/server.js`, the image's command): it
 * becomes ready, takes a webhook whose evaluation is still waiting on GitHub, gets SIGTERM — and
 * from then on /readyz answers 503 (draining) while the process still answers webhooks and
 * /healthz; once the evaluation is done it hands over and exits 0, and only then is the port closed.
 */
const APP_ID = 4711;
const SECRET = "shutdown-test-webhook-secret";
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The in-memory GitHub over HTTP as a GitHub Enterprise Server (/api/v3), whose answers a test can hold back. */
async function heldGitHub(fake: FakeGitHub) {
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  let held = 0;
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (gate) {
      held++;
      await gate;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    const body = Buffer.concat(chunks).toString("utf8");
    const response = await fake.fetch(`https://api.github.com${(req.url ?? "/").replace(/^\/api\/v3/, "")}`, { method: req.method ?? "GET", headers, ...(body ? { body } : {}) });
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => (out[k] = v));
    res.writeHead(response.status, out).end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: () => void (gate = new Promise<void>((resolve) => (release = resolve))),
    release: () => {
      gate = undefined;
      release?.();
    },
    held: () => held,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("SIGTERM: unready first, then drain, then exit", () => {
  const app = buildApp();
  afterAll(() => app.remove());
  let github: Awaited<ReturnType<typeof heldGitHub>>;
  let child: ChildProcess;
  let output = "";
  let base: string;
  const fake = new FakeGitHub({ appId: APP_ID });

  beforeAll(async () => {
    accessRepository(fake, ["alice"]);
    github = await heldGitHub(fake);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ["lib/server.js"], {
      cwd: app.dir,
      env: {
        PATH: process.env.PATH, HOME: app.dir, NODE_ENV: "production", HOST: "127.0.0.1", PORT: String(port),
        APP_ID: String(APP_ID), PRIVATE_KEY: privateKey, WEBHOOK_SECRET: SECRET, GHE_HOST: github.host, GHE_PROTOCOL: "http",
        JIT_TRUSTED_POLICY_SHAS: process.env.JIT_TRUSTED_POLICY_SHAS ?? "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
  }, 60_000);

  afterAll(async () => {
    github?.release();
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await github?.close();
  });

  it("answers 503 on /readyz while it drains, keeps answering webhooks, exits 0 once the work is done", async () => {
    const ready = await until("the process to be ready", async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined));
    expect(ready).toBe(true);

    // A request whose evaluation is under way: GitHub's answers are held back.
    await openRequest(fake.as("alice"), ref, { branch: "req", path: "grants/prod-admins/alice.yaml", content: "requester: alice\n" });
    github.hold();
    expect((await deliver(fake.deliveries[0]!)).status).toBe(200);
    await until("the evaluation to wait on GitHub", async () => (github.held() > 0 ? true : undefined));

    child.kill("SIGTERM");
    const draining = await until("/readyz to turn 503", async () => {
      const r = await fetch(`${base}/readyz`);
      return r.status === 503 ? await r.json() : undefined;
    });
    expect(draining).toEqual({ ready: false, serving: "draining" });
    // Still a live process that answers: the Service sends no new work, what comes is not lost.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await deliver(fake.deliveries[0]!)).status).toBe(200);
    expect(child.exitCode).toBeNull();

    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    github.release();
    expect(await exited).toBe(0);
    await expect(fetch(`${base}/readyz`)).rejects.toThrow();

    // The evaluation ran to its end before the exit: the request's check run is there.
    expect(fake.repo("acme", "access")!.checkRuns.filter((r) => r.appId === APP_ID).map((r) => r.name)).toContain("jit-access");
    // JSON logs (NODE_ENV=production), the drain among them; no secret in them.
    const lines = output.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.some((l) => l.serving === "draining" && String(l.msg).startsWith("draining"))).toBe(true);
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain(privateKey.split("\n")[1]!);
  }, 60_000);

  async function deliver(delivery: FakeGitHub["deliveries"][number]): Promise<Response> {
    const body = JSON.stringify(delivery.payload);
    return fetch(`${base}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": delivery.name, "x-github-delivery": delivery.id, "x-hub-signature-256": await sign(SECRET, body) },
      body,
    });
  }
});
