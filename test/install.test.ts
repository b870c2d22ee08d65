import { afterEach, describe, expect, it } from "@jest/globals";
import { generateKeyPairSync } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { Probot, ProbotOctokit, Server, run } from "probot";
import { parse } from "yaml";
import { createApp } from "../src/app.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";
import { freePort } from "../testkit/redis-server.js";
import { memoryProvider } from "../testkit/replica.js";
import { githubApi } from "./helpers/github-mock.js";
import { guardNetwork } from "./helpers/setup-nock.js";

/**
 * "Install on your organization" (docs/operations/install.md) followed as a new user would: the
 * manifests ask for exactly what the code uses, Probot's setup flow (`npm start` with GH_ORG)
 * posts app.yml to the organization's "new App" page with the webhook URL of the flow, GitHub's
 * conversion gives the credentials, and the app started with them handles a request on the org.
 */
guardNetwork();
const root = new URL("../", import.meta.url);
type Manifest = { name: string; description: string; public: boolean; default_events: string[]; default_permissions: Record<string, string>; hook_attributes?: unknown };
const manifest = (file: string) => parse(readFileSync(new URL(file, root), "utf8")) as Manifest;

/**
 * The permission each REST method the app (src/, except the CLI, which runs with a person's token)
 * calls needs from an installation token, as GitHub's REST reference lists it. A method not listed
 * fails the test: whoever adds a call decides what it asks for here and in app.yml.
 */
const METHOD_PERMISSIONS: Record<string, Record<string, "read" | "write">> = {
  "apps.listInstallations": {}, // the app's JWT, no installation permission
  "apps.listReposAccessibleToInstallation": { metadata: "read" },
  "checks.create": { checks: "write" },
  "checks.update": { checks: "write" },
  "checks.get": { checks: "read" },
  "checks.listForRef": { checks: "read" },
  "git.createRef": { contents: "write" },
  "git.getBlob": { contents: "read" },
  "git.getRef": { contents: "read" },
  "git.getTree": { contents: "read" },
  "issues.addLabels": { pull_requests: "write" },
  "issues.removeLabel": { pull_requests: "write" },
  "issues.setLabels": { pull_requests: "write" },
  "issues.createComment": { pull_requests: "write" },
  "issues.updateComment": { pull_requests: "write" },
  "issues.listComments": { pull_requests: "read" },
  "issues.listEventsForTimeline": { pull_requests: "read" },
  "pulls.create": { pull_requests: "write" },
  "pulls.update": { pull_requests: "write" },
  "pulls.merge": { contents: "write" },
  "pulls.get": { pull_requests: "read" },
  "pulls.list": { pull_requests: "read" },
  "pulls.listCommits": { pull_requests: "read" },
  "pulls.listFiles": { pull_requests: "read" },
  "pulls.listReviews": { pull_requests: "read" },
  "repos.compareCommitsWithBasehead": { contents: "read" },
  "repos.deleteFile": { contents: "write" },
  "repos.getContent": { contents: "read" },
  "repos.listCommits": { contents: "read" },
  "repos.listPullRequestsAssociatedWithCommit": { contents: "read", pull_requests: "read" },
  "search.issuesAndPullRequests": { metadata: "read", pull_requests: "read" },
  "teams.getMembershipForUserInOrg": { members: "read" },
  "teams.listMembersInOrg": { members: "read" },
  "teams.addOrUpdateMembershipForUserInOrg": { members: "write" },
  "teams.removeMembershipForUserInOrg": { members: "write" },
  "users.getById": {}, // public
  "users.listPublicKeysForUser": {}, // public (the ssh provider's keys)
  // With a person's user-to-server token (Slack approvals): GitHub allows what both the person
  // and the App may do, so the App must hold the permission too.
  "users.getAuthenticated": {},
  "pulls.createReview": { pull_requests: "write" },
};

/** Events GitHub delivers to every App without a subscription: never in a manifest's default_events. */
const ALWAYS_DELIVERED = new Set(["github_app_authorization"]);

/** The permission a webhook event needs to be delivered (GitHub's "webhook events" reference). */
const EVENT_PERMISSIONS: Record<string, Record<string, "read">> = {
  pull_request: { pull_requests: "read" },
  pull_request_review: { pull_requests: "read" },
  issue_comment: { issues: "read" },
  membership: { members: "read" },
  repository: { metadata: "read" },
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "cli" ? [] : sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** `rest.<scope>.<method>` calls of the app's code, by file. */
function methodsUsed(except: (file: string) => boolean = () => false): Set<string> {
  const used = new Set<string>();
  for (const file of sourceFiles(new URL("src", root).pathname)) {
    if (except(file)) continue;
    for (const m of readFileSync(file, "utf8").matchAll(/\brest\.([a-zA-Z]+)\.([a-zA-Z]+)/g)) used.add(`${m[1]}.${m[2]}`);
  }
  return used;
}

/** The events the app subscribes to, as Probot's `app.on` receives them. */
async function eventsSubscribed(): Promise<string[]> {
  const events = new Set<string>();
  const recorder = {
    log: { info() {}, warn() {}, error() {}, debug() {} },
    webhooks: { verifyAndReceive: async () => {} },
    on(names: string | string[]) {
      for (const name of [names].flat()) events.add(name.split(".")[0]!);
    },
  };
  const app = createApp({ appId: 1, providers: () => undefined, sweepSchedule: null });
  await app(recorder as unknown as Probot, undefined as never);
  await app.close();
  return [...events].sort();
}

function needed(methods: Set<string>, events: string[]): Record<string, string> {
  const out: Record<string, string> = { metadata: "read" }; // every app has it
  const add = (permissions: Record<string, string>) => {
    for (const [name, level] of Object.entries(permissions)) if (out[name] !== "write") out[name] = level;
  };
  const unknown = [...methods].filter((m) => !(m in METHOD_PERMISSIONS));
  expect(unknown).toEqual([]); // a new REST call: add its permission to METHOD_PERMISSIONS (and app.yml)
  for (const m of methods) add(METHOD_PERMISSIONS[m]!);
  for (const e of events) add(EVENT_PERMISSIONS[e] ?? {});
  return out;
}

describe("the App's manifests", () => {
  it("app.yml asks for exactly the events the app subscribes to and the permissions its calls need", async () => {
    const app = manifest("app.yml");
    const events = await eventsSubscribed();
    expect([...app.default_events].sort()).toEqual(events.filter((e) => !ALWAYS_DELIVERED.has(e)));
    expect(app.default_permissions).toEqual(needed(methodsUsed(), events));
    // Every method the table lists is still called: nothing is asked for that nobody uses.
    expect(Object.keys(METHOD_PERMISSIONS).filter((m) => !methodsUsed().has(m))).toEqual([]);
  });

  it("app.readonly.yml is app.yml with members: read, which is all the app needs without the github-team provider", async () => {
    const app = manifest("app.yml");
    const readonly = manifest("app.readonly.yml");
    expect(readonly).toEqual({ ...app, default_permissions: { ...app.default_permissions, members: "read" } });
    const withoutTeamProvider = methodsUsed((file) => file.endsWith(join("providers", "github-team.ts")));
    expect(readonly.default_permissions).toEqual(needed(withoutTeamProvider, await eventsSubscribed()));
  });

  it("neither sets the webhook URL (Probot's flow does) and both stay installable only by their owner", () => {
    for (const file of ["app.yml", "app.readonly.yml"]) {
      expect(manifest(file).hook_attributes).toBeUndefined();
      expect(manifest(file).public).toBe(false);
    }
  });
});

describe("npm start with GH_ORG: Probot's setup flow registers the App on the organization", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it("posts app.yml to the organization's new-App page with the flow's webhook URL; the credentials it gets run the app on the org", async () => {
    for (const key of ["APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "WEBHOOK_PROXY_URL", "NODE_ENV", "PROJECT_DOMAIN", "NO_SMEE_SETUP", "GHE_HOST"]) delete process.env[key];
    process.env.GH_ORG = "acme";
    const port = await freePort();
    const written: Record<string, string>[] = [];
    // What Probot writes to .env (and process.env); here recorded instead of written to a file.
    const updateEnv = (env: Record<string, string>) => {
      written.push(env);
      Object.assign(process.env, env);
      return env;
    };
    // smee.io cannot be reached from a test: the channel Probot would create is this one.
    const SmeeClient = { createChannel: async () => "https://smee.io/jit-access-install-test" };
    const { log } = new Probot({ appId: 1, privateKey: "unused", logLevel: "fatal" as const });
    const server = await run(async () => {}, { env: { PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "fatal" }, updateEnv, SmeeClient, log } as never);
    try {
      const page = await (await fetch(`http://127.0.0.1:${port}/probot`)).text();
      const action = /<form action="([^"]+)"/.exec(page)?.[1];
      expect(action).toBe("https://github.com/organizations/acme/settings/apps/new");
      const posted = JSON.parse(/value='([^']+)'/.exec(page)![1]!) as Manifest & { hook_attributes: { url: string }; redirect_url: string };
      const app = manifest("app.yml");
      expect(posted.hook_attributes).toEqual({ url: "https://smee.io/jit-access-install-test" });
      expect(posted.default_permissions).toEqual(app.default_permissions);
      expect(posted.default_events).toEqual(app.default_events);
      expect(posted.public).toBe(false);
      expect(posted.redirect_url).toBe(`http://127.0.0.1:${port}/probot/setup`);

      // GitHub registers it under acme and sends the browser back with a code; Probot converts it.
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
      const scope = githubApi()
        .post("/app-manifests/one-time-code/conversions")
        .reply(201, {
          id: 9001, slug: "jit-access", node_id: "A_kwHOAAjit", name: "jit-access", description: posted.description, external_url: "https://github.com",
          html_url: "https://github.com/apps/jit-access", created_at: "2026-12-07T00:00:00Z", updated_at: "2026-12-07T00:00:00Z",
          owner: { login: "acme", id: 1, type: "Organization" }, permissions: posted.default_permissions, events: posted.default_events,
          client_id: "Iv1.0123456789abcdef", client_secret: "client-secret-never-shown", webhook_secret: "webhook-secret-from-github", pem: privateKey,
        });
      const back = await fetch(`http://127.0.0.1:${port}/probot/setup?code=one-time-code`, { redirect: "manual" });
      expect(back.status).toBe(302);
      expect(back.headers.get("location")).toBe("https://github.com/apps/jit-access/installations/new");
      scope.done();
      const credentials = Object.assign({}, ...written) as Record<string, string>;
      expect(credentials).toMatchObject({ WEBHOOK_PROXY_URL: "https://smee.io/jit-access-install-test", APP_ID: "9001", WEBHOOK_SECRET: "webhook-secret-from-github" });
      expect(credentials.PRIVATE_KEY).toBe(`"${privateKey}"`);

      // Restarted with them, the App installed on acme's access repository handles a request there.
      await handlesARequest(Number(credentials.APP_ID), privateKey, credentials.WEBHOOK_SECRET!);
    } finally {
      await server.stop();
    }
  });
});

async function handlesARequest(appId: number, privateKey: string, secret: string): Promise<void> {
  const fake = new FakeGitHub({ appId });
  accessRepository(fake, ["alice"]); // installed on the organization acme, the access repository selected
  expect([...fake.installations.values()].map((i) => i.account)).toEqual([{ login: "acme", type: "Organization" }]);
  const fetchFake = fake.fetch.bind(fake) as unknown as typeof globalThis.fetch;
  const NoRetry = ProbotOctokit.defaults((o: Record<string, any>) => ({ ...o, retry: { ...o.retry, enabled: false } }));
  const { log } = new Probot({ appId, privateKey, logLevel: "fatal" });
  const server = new Server({ host: "127.0.0.1", port: await freePort(), log, request: { fetch: fetchFake }, Probot: Probot.defaults({ appId, privateKey, secret, logLevel: "fatal", Octokit: NoRetry, request: { fetch: fetchFake } }) });
  const app = createApp({ appId, providers: () => memoryProvider().provider, sweepSchedule: null });
  await server.load(app);
  const http = await server.start();
  try {
    await openRequest(fake.as("alice"), ref, { branch: "req", path: "grants/prod-admins/alice.yaml", content: "requester: alice\n" });
    const opened = fake.deliveries[0]!;
    const body = JSON.stringify(opened.payload);
    const answer = await fetch(`http://127.0.0.1:${server.port}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": opened.name, "x-github-delivery": opened.id, "x-hub-signature-256": await sign(secret, body) },
      body,
    });
    expect(answer.status).toBe(200);
    await app.queue.idle();
    const runs = fake.repo("acme", "access")!.checkRuns.filter((r) => r.appId === appId);
    expect(runs.map((r) => r.name)).toEqual(["jit-access"]);
  } finally {
    await app.close();
    http.closeAllConnections();
    await server.stop();
  }
}
