import { describe, expect, it } from "@jest/globals";
import { generateKeyPairSync } from "node:crypto";
import { Writable } from "node:stream";
import { Probot, ProbotOctokit } from "probot";
import { createApp } from "../src/app.js";
import { createLogger, logFormat } from "../src/logging.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { memoryProvider } from "../testkit/replica.js";

/**
 * The log as the server writes it (src/server.ts hands createLogger's logger to Probot): JSON
 * lines, each line about a grant with the same fields, alerts marked, secrets redacted.
 */
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
// No retries, and no throttling (which spaces writes 1 s apart): the test is about what is logged.
const Quick = ProbotOctokit.defaults((o: Record<string, any>) => ({ ...o, retry: { ...o.retry, enabled: false }, throttle: { ...o.throttle, enabled: false } }));
const GRANT = "requester: alice\nresource: prod-admins\nrole: member\nduration: 2h\nreason: incident 42\n";

/** A destination that keeps every line written to it. */
function capture() {
  let text = "";
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text, lines: () => text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

async function appWithLog(fake: FakeGitHub, env: NodeJS.ProcessEnv) {
  const out = capture();
  const log = await createLogger(env, out.stream);
  const probot = new Probot({ appId: fake.app.id, privateKey, log, Octokit: Quick, request: { fetch: fake.fetch } });
  const memory = memoryProvider();
  const app = createApp({ appId: fake.app.id, providers: () => memory.provider, sweepSchedule: null });
  await probot.load(app);
  const deliver = async (name: string, action: string) => {
    const d = fake.deliveries.filter((x) => x.name === name && x.action === action).at(-1)!;
    await probot.receive({ id: d.id, name: d.name, payload: d.payload } as Parameters<Probot["receive"]>[0]);
    await app.queue.idle();
    await settle();
  };
  return { out, app, deliver, memory };
}

describe("the log format", () => {
  it("is JSON unless LOG_FORMAT=pretty, whatever NODE_ENV says", () => {
    expect(logFormat({})).toBe("json");
    expect(logFormat({ NODE_ENV: "development" })).toBe("json");
    expect(logFormat({ LOG_FORMAT: "json" })).toBe("json");
    expect(logFormat({ LOG_FORMAT: "pretty" })).toBe("pretty");
  });
});

describe("JSON log lines", () => {
  it("an applied grant: the line carries request, requester, resource, role, action and outcome", async () => {
    const fake = new FakeGitHub({ appId: 61 });
    accessRepository(fake, ["alice", "bob"]);
    fake.addMember("acme/platform", "bob");
    const { out, app, deliver, memory } = await appWithLog(fake, {});
    const number = (await openRequest(fake.as("alice"), ref, { branch: "req", path: "grants/prod-admins/alice.yaml", content: GRANT }))!;
    await fake.as("bob").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
    await deliver("pull_request_review", "submitted");
    await deliver("pull_request", "closed");
    expect(memory.applies).toHaveLength(1);

    const id = `repo:${fake.repo("acme", "access")!.id}#${number}`;
    const merged = out.lines().find((l) => l.action === "merge");
    expect(merged).toMatchObject({ level: 30, request: id, requester: "alice", resource: "prod-admins", role: "member", action: "merge", outcome: "ok", msg: `merged acme/access#${number}` });
    const applied = out.lines().find((l) => l.action === "apply");
    expect(applied).toMatchObject({ level: 30, request: id, requester: "alice", resource: "prod-admins", role: "member", action: "apply", outcome: "ok" });
    expect(String(applied!.msg)).toMatch(/^applied /);
    await app.close();
  });

  it("an alert: alert: true and its reason on the line, and jit_alerts_total{reason}", async () => {
    const fake = new FakeGitHub({ appId: 62 });
    accessRepository(fake, ["alice"]);
    const { out, app, deliver, memory } = await appWithLog(fake, {});
    // alice merges her own request, unapproved: a bypass of the policy; nothing is applied.
    const number = (await openRequest(fake.as("alice"), ref, { branch: "req", path: "grants/prod-admins/alice.yaml", content: GRANT }))!;
    await fake.as("alice").rest.pulls.merge({ ...ref, pull_number: number, merge_method: "squash" });
    await deliver("pull_request", "closed");
    expect(memory.applies).toEqual([]);
    const alerts = out.lines().filter((l) => l.alert === true);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ level: 50, alert: true, reason: "bypass", requester: "alice", resource: "prod-admins", role: "member", outcome: "alert" });
    expect(await app.metrics.text()).toMatch(/^jit_alerts_total\{reason="bypass"\} 1$/m);
    await app.close();
  });

  it("secrets are redacted wherever a library puts them", async () => {
    const out = capture();
    const log = await createLogger({ LOG_LEVEL: "debug" }, out.stream);
    const token = "ghs_secretInstallationToken123";
    log.error({ err: { message: "Bad credentials", request: { method: "GET", url: "https://api.github.com/app", headers: { authorization: `token ${token}` } } } }, "GitHub refused");
    log.info({ req: { method: "POST", url: "/api/github/webhooks", headers: { authorization: `Bearer ${token}`, cookie: `session=${token}`, "x-github-event": "ping" } } }, "request");
    log.warn({ provider: { name: "postgres", password: "pg-password-1", token } }, "provider");
    log.debug({ privateKey, secret: "webhook-secret-2" }, "options");
    await settle();
    const text = out.text();
    for (const secret of [token, "pg-password-1", "webhook-secret-2", privateKey.split("\n")[1]!]) expect(text).not.toContain(secret);
    const [refused, request, provider, options] = out.lines();
    expect((refused!.err as any).request.headers.authorization).toBe("[redacted]");
    expect((request!.req as any).headers).toEqual({ authorization: "[redacted]", cookie: "[redacted]", "x-github-event": "ping" });
    expect(provider!.provider).toEqual({ name: "postgres", password: "[redacted]", token: "[redacted]" });
    expect([options!.privateKey, options!.secret]).toEqual(["[redacted]", "[redacted]"]);
  });
});
