import { Octokit } from "@octokit/rest";
import { createHash } from "node:crypto";
import type { GitHub } from "../src/github/client.js";
import { resetConditionalReads } from "../src/github/conditional.js";
import { resetProvenanceCache } from "../src/github/provenance.js";
import { resetJudgingFileCache } from "../src/github/snapshot.js";
import { CODEOWNERS_PATHS, POLICY_PATH } from "../src/policy/paths.js";
import { blobSha, Git } from "./fake/git.js";
import { fullName, timestamp, type Actor, type AppRequest, type BranchProtection, type Delivery, type FakePull, type FakeRepo, type Installation } from "./fake/model.js";
import { Router, RouteError, type Reply, type Route } from "./fake/router.js";
import { appRoutes } from "./fake/routes-apps.js";
import { gitRoutes } from "./fake/routes-git.js";
import { issueRoutes } from "./fake/routes-issues.js";
import { pullRoutes } from "./fake/routes-pulls.js";
import { idOf, renameAccount, repository, user, type AppIdentity } from "./fake/shapes.js";
import type { World } from "./fake/world-type.js";

export { blobSha } from "./fake/git.js";
export type { AppRequest, BranchProtection, Delivery, FakePull, FakeRepo } from "./fake/model.js";

/**
 * An in-memory GitHub behind Octokit's `request.fetch`: the real Octokit (and Probot, through its
 * `request` option), loader and executor run against it, and every request is counted.
 *
 * It is stateful the way GitHub is: merges commit to the base branch, the revert flow creates a
 * branch, deletes a file on it and merges it; check runs belong to the app that created them;
 * comments keep their app's mark when people edit them; every change queues the webhook GitHub
 * would send (`deliveries`), which a test delivers, redelivers, reorders or loses. Callers are
 * told apart by their token: the app's installation (minted through the real app-auth flow), or
 * a person with write access (`as(login)`), so tests act as people through the same REST routes.
 * A test can also act between two of the app's requests (`onRequest`: a person's push just before
 * a merge, say); a protected branch refuses merges its rules do not allow (`protect`).
 * Only routes of GitHub's REST route table are served (`FAKE_ROUTES`); anything else answers 501,
 * so a new call cannot go unnoticed.
 */
export const FAKE_ROUTES: readonly Route[] = [...appRoutes, ...gitRoutes, ...pullRoutes, ...issueRoutes];

export interface FakeOptions {
  appId: number;
  /** GitHub's clock (timestamps, merge times); the system clock by default. */
  now?: () => Date;
}

const router = new Router(FAKE_ROUTES);
const silent = () => {};
const quietLog = { debug: silent, info: silent, warn: silent, error: silent };

export class FakeGitHub implements World {
  readonly app: AppIdentity;
  readonly repos = new Map<string, FakeRepo>();
  readonly installations = new Map<number, Installation>();
  readonly teams = new Map<string, Map<string, "active" | "pending">>();
  readonly renamedUsers = new Map<string, number>();
  readonly goneLogins = new Set<string>();
  /** The app's requests (`METHOD /path`), in order: what benchmarks count. People's requests are not in it. */
  readonly requests: string[] = [];
  /**
   * Those of `requests` answered 304 Not Modified (a conditional read of something unchanged):
   * GitHub does not count them against the rate limit.
   */
  readonly notModified: string[] = [];
  /**
   * Decides, for each of the app's requests, whether GitHub fails it instead of serving it (a
   * status such as 502 or 429; undefined: served). Soak benchmarks set it; the failures are listed
   * in `failed`.
   */
  failure: ((r: AppRequest) => number | undefined) | undefined;
  readonly failed: string[] = [];
  /** Webhooks GitHub would have sent, oldest first; a test takes them from here. */
  readonly deliveries: Delivery[] = [];
  /** Added latency per request, to make concurrency realistic (0: none). */
  latencyMs = 0;
  /** Once closed, every request fails as if GitHub were unreachable (a test's end stops whatever still runs). */
  closed = false;
  /**
   * The app's OAuth client (GitHub App user authorization, web flow): `authorize(login)` is the
   * person clicking "Authorize" on GitHub, which sends them back with a one-time code; the app
   * exchanges it at `POST /login/oauth/access_token` for a user-to-server token acting as them.
   */
  readonly oauthClient = { id: "Iv1.fakejitaccess", secret: "fake-client-secret-never-shown" };
  /** User-to-server tokens handed out, by login (a test revokes them). */
  readonly userTokens = new Map<string, string[]>();
  private readonly codes = new Map<string, string>();
  private readonly refreshTokens = new Map<string, string>();
  private readonly tokens = new Map<string, Actor>();
  private readonly listeners: ((d: Delivery) => void)[] = [];
  private readonly requestListeners: ((r: AppRequest) => void | Promise<void>)[] = [];
  private readonly clock: () => Date;
  private ids = 1000;

  constructor(options: FakeOptions | number) {
    // A new GitHub: what the app caches by commit and blob SHA (the same SHAs again in the next test)
    // must not carry over from the last one.
    resetJudgingFileCache();
    resetProvenanceCache();
    resetConditionalReads();
    const o = typeof options === "number" ? { appId: options } : options;
    this.app = { id: o.appId, slug: "jit-access" };
    this.clock = o.now ?? (() => new Date());
  }

  // --- World ---------------------------------------------------------------------------------

  now(): string {
    return timestamp(this.clock());
  }

  nextId(): number {
    return ++this.ids;
  }

  repo(owner: string, name: string): FakeRepo | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  allRepos(): FakeRepo[] {
    return [...this.repos.values()];
  }

  mintToken(appId: number, installationId: number): string {
    const token = `ghs_fake_${this.nextId()}`;
    this.tokens.set(token, { kind: "app", appId, installationId });
    return token;
  }

  emit(repo: FakeRepo, name: string, action: string, fields: Record<string, unknown>, sender: string): void {
    const installation = [...this.installations.values()].find((i) => i.repos.has(fullName(repo)));
    const delivery: Delivery = {
      id: `fake-delivery-${this.nextId()}`,
      name,
      action,
      payload: { action, ...fields, repository: repository(repo), sender: user(sender), ...(installation ? { installation: { id: installation.id } } : {}) },
    };
    this.deliveries.push(delivery);
    for (const listener of this.listeners) listener(delivery);
  }

  // --- Set-up and people ---------------------------------------------------------------------

  /**
   * A repository with a first commit on its default branch, installed for the app. A policy or
   * CODEOWNERS in that first commit came through no pull request, so the app would refuse every
   * request (policy provenance) unless an operator vouches for it: as one would, this adds their
   * blob SHAs to JIT_TRUSTED_POLICY_SHAS of this process, unless `vouch` is false.
   */
  addRepo(owner: string, name: string, files: Record<string, string>, o: { writers?: string[]; installationId?: number; account?: Installation["account"]; vouch?: boolean } = {}): FakeRepo {
    const repo: FakeRepo = { id: idOf(`${owner}/${name}`), owner, name, defaultBranch: "main", archived: false, git: new Git(), pulls: new Map(), checkRuns: [], writers: new Set((o.writers ?? []).map((w) => w.toLowerCase())), protection: new Map() };
    repo.git.commit("main", new Map(Object.entries(files)), { message: "initial commit", author: owner, date: this.now() });
    if (o.vouch !== false) {
      const judging = Object.entries(files).filter(([path]) => path === POLICY_PATH || (CODEOWNERS_PATHS as readonly string[]).includes(path));
      const vouched = new Set([...(process.env.JIT_TRUSTED_POLICY_SHAS ?? "").split(",").filter(Boolean), ...judging.map(([, text]) => blobSha(text))]);
      if (vouched.size > 0) process.env.JIT_TRUSTED_POLICY_SHAS = [...vouched].join(",");
    }
    this.repos.set(fullName(repo).toLowerCase(), repo);
    const id = o.installationId ?? 4242;
    const installation = this.installations.get(id) ?? { id, account: o.account ?? { login: owner, type: "Organization" }, repos: new Set<string>() };
    installation.repos.add(fullName(repo));
    this.installations.set(id, installation);
    return repo;
  }

  /**
   * Renames or transfers a repository ("owner/name" → "owner/name"), as its admin would: it keeps
   * its id, pull requests, check runs and installation, and GitHub sends `repository.renamed` (or
   * `.transferred`, when the owner changes). The API then finds it under the new name only (GitHub
   * redirects the old one for a while; nothing here relies on that).
   */
  rename(from: string, to: string): FakeRepo {
    const repo = this.repos.get(from.toLowerCase());
    if (!repo) throw new Error(`no repository ${from}`);
    const [owner, name] = to.split("/") as [string, string];
    const before = { owner: repo.owner, name: repo.name };
    const installation = [...this.installations.values()].find((i) => i.repos.has(fullName(repo)));
    installation?.repos.delete(fullName(repo));
    this.repos.delete(from.toLowerCase());
    Object.assign(repo, { owner, name });
    this.repos.set(fullName(repo).toLowerCase(), repo);
    installation?.repos.add(fullName(repo));
    if (before.owner === owner) this.emit(repo, "repository", "renamed", { changes: { repository: { name: { from: before.name } } } }, owner);
    else this.emit(repo, "repository", "transferred", { changes: { owner: { from: { organization: user(before.owner) } } } }, owner);
    return repo;
  }

  /** Branch protection on `branch` of `repo` ("owner/name"): merges into it must meet `rules`. */
  protect(repo: string, branch: string, rules: BranchProtection): void {
    const found = this.repos.get(repo.toLowerCase());
    if (!found) throw new Error(`no repository ${repo}`);
    found.protection.set(branch, rules);
  }

  addMember(team: string, login: string, state: "active" | "pending" = "active"): void {
    const key = team.replace(/^@/, "").toLowerCase();
    const members = this.teams.get(key) ?? new Map();
    members.set(login.toLowerCase(), state);
    this.teams.set(key, members);
  }

  /**
   * A person renames their account: the id stays, the old login stops existing (404 wherever it is
   * named), and their team memberships and write access move to the new login, as on GitHub.
   */
  renameUser(from: string, to: string): void {
    const [old, now] = [from.toLowerCase(), to.toLowerCase()];
    this.renamedUsers.set(now, this.renamedUsers.get(old) ?? idOf(old));
    renameAccount(old, now);
    this.goneLogins.add(old);
    this.goneLogins.delete(now);
    for (const members of this.teams.values()) {
      const state = members.get(old);
      if (state === undefined) continue;
      members.delete(old);
      members.set(now, state);
    }
    for (const repo of this.repos.values()) if (repo.writers.delete(old)) repo.writers.add(now);
  }

  isMember(team: string, login: string): boolean {
    return this.teams.get(team.replace(/^@/, "").toLowerCase())?.get(login.toLowerCase()) === "active";
  }

  pull(repo: string, number: number): FakePull {
    const found = this.repos.get(repo.toLowerCase())?.pulls.get(number);
    if (!found) throw new Error(`no pull request ${repo}#${number}`);
    return found;
  }

  /** The app's installation client, as Probot would hand it to a handler (a minted installation token). */
  /** `Kind`: an Octokit with plugins (a soak benchmark's retrying client), given `options` besides. */
  client(installationId = 4242, Kind: typeof Octokit = Octokit, options: Record<string, unknown> = {}): GitHub {
    return new Kind({ auth: this.mintToken(this.app.id, installationId), request: { fetch: this.fetch }, log: quietLog, ...options });
  }

  /** A person with write access, acting through the REST API (edits, deletions, labels, reviews, merges). */
  as(login: string): Octokit {
    const token = `fake_person_${login}`;
    this.tokens.set(token, { kind: "person", login });
    return this.octokit(token);
  }

  /** Another GitHub App installed on the same repositories (say, GitHub Actions): it can write check runs of its own. */
  asOtherApp(appId: number, installationId = 4242): Octokit {
    return this.octokit(this.mintToken(appId, installationId));
  }

  /** The person authorized the app on GitHub's page: the code GitHub puts in the redirect (single use). */
  authorize(login: string): string {
    const code = `fake_code_${this.nextId()}`;
    this.codes.set(code, login);
    return code;
  }

  /**
   * The person revokes the app's authorization in their GitHub settings: their user-to-server tokens
   * stop working, and GitHub sends `github_app_authorization.revoked` (to every app, no subscription).
   */
  revokeAuthorization(login: string): Delivery {
    for (const token of this.userTokens.get(login) ?? []) this.tokens.delete(token);
    this.userTokens.delete(login);
    const delivery: Delivery = { id: `fake-delivery-${this.nextId()}`, name: "github_app_authorization", action: "revoked", payload: { action: "revoked", sender: user(login) } };
    this.deliveries.push(delivery);
    for (const listener of this.listeners) listener(delivery);
    return delivery;
  }

  /** GitHub's web-flow token endpoint, as strict as GitHub: POST only, the app's client, a live code or refresh token. */
  private oauthToken(method: string, body: Record<string, unknown>): Reply {
    if (method !== "POST") return { status: 404, body: { message: "Not Found" } };
    if (body.client_id !== this.oauthClient.id || body.client_secret !== this.oauthClient.secret) return { status: 200, body: { error: "incorrect_client_credentials", error_description: "The client_id and/or client_secret passed are incorrect." } };
    let login: string | undefined;
    if (body.grant_type === "refresh_token") {
      login = this.refreshTokens.get(String(body.refresh_token));
      this.refreshTokens.delete(String(body.refresh_token));
      if (!login) return { status: 200, body: { error: "bad_refresh_token", error_description: "The refresh token passed is incorrect or expired." } };
    } else {
      login = this.codes.get(String(body.code));
      this.codes.delete(String(body.code));
      if (!login) return { status: 200, body: { error: "bad_verification_code", error_description: "The code passed is incorrect or expired." } };
    }
    const token = `ghu_fake_${this.nextId()}`;
    const refresh = `ghr_fake_${this.nextId()}`;
    this.tokens.set(token, { kind: "person", login });
    this.refreshTokens.set(refresh, login);
    this.userTokens.set(login, [...(this.userTokens.get(login) ?? []), token]);
    return { status: 200, body: { access_token: token, expires_in: 28800, refresh_token: refresh, refresh_token_expires_in: 15897600, scope: "", token_type: "bearer" } };
  }

  onDelivery(listener: (d: Delivery) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Called, and awaited, before each of the app's requests is served (people's are not): a test
   * looks at what the app sent, or acts — as a person, through REST — between two of its requests.
   */
  onRequest(listener: (r: AppRequest) => void | Promise<void>): void {
    this.requestListeners.push(listener);
  }

  count(prefix = ""): number {
    return this.requests.filter((r) => r.startsWith(prefix)).length;
  }

  reset(): void {
    this.requests.length = 0;
    this.notModified.length = 0;
  }

  private octokit(token: string): Octokit {
    return new Octokit({ auth: token, request: { fetch: this.fetch }, log: quietLog });
  }

  // --- HTTP ----------------------------------------------------------------------------------

  /** Octokit's `request.fetch` (also Probot's `request: { fetch }`). */
  readonly fetch = async (input: string | URL, init?: { method?: string; body?: string; headers?: Record<string, string> | Headers }): Promise<Response> => {
    if (this.closed) throw new TypeError("fetch failed: the in-memory GitHub is closed");
    const url = new URL(String(input));
    const method = (init?.method ?? "GET").toUpperCase();
    const actor = this.actorOf(headerOf(init?.headers, "authorization"));
    const byApp = actor.kind === "app" || actor.kind === "app-jwt";
    if (byApp) this.requests.push(`${method} ${url.pathname}`);
    // A response arrives in a later turn of the event loop, as over a network (so timers still run
    // while an app keeps GitHub busy), after the latency set.
    await new Promise((r) => (this.latencyMs ? setTimeout(r, this.latencyMs) : setImmediate(r)));
    const body = init?.body ? JSON.parse(init.body) : {};
    if (byApp) for (const listener of this.requestListeners) await listener({ method, path: url.pathname, body });
    // A failure GitHub answers now and then (a 502, a secondary rate limit), before doing anything.
    const injected = byApp ? this.failure?.({ method, path: url.pathname, body }) : undefined;
    if (injected !== undefined) {
      this.failed.push(`${injected} ${method} ${url.pathname}`);
      const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8", ...(injected === 429 ? { "retry-after": "0" } : {}) };
      return withUrl(new Response(JSON.stringify({ message: injected === 429 ? "You have exceeded a secondary rate limit." : "Server Error" }), { status: injected, headers }), url);
    }
    if (url.pathname === "/login/oauth/access_token") {
      // GitHub's Date header: Octokit's OAuth methods compute the token's expiry from it.
      const response = respond(url, this.oauthToken(method, body), method, undefined);
      response.headers.set("date", this.clock().toUTCString());
      return response;
    }
    let reply: Reply;
    try {
      reply = this.dispatch(method, url.pathname, url.searchParams, body, actor);
    } catch (error) {
      if (!(error instanceof RouteError)) throw error;
      reply = { status: error.status, body: { message: error.message, documentation_url: "https://docs.github.com/rest" } };
    }
    const response = respond(url, reply, method, headerOf(init?.headers, "if-none-match"));
    if (byApp && response.status === 304) this.notModified.push(`${method} ${url.pathname}`);
    return response;
  };

  private dispatch(method: string, path: string, query: URLSearchParams, body: any, actor: Actor): Reply {
    const found = router.match(method, path);
    if (!found) return { status: 501, body: { message: `fake GitHub does not serve ${method} ${path}` } };
    const repo = found.params.owner && found.params.repo ? this.repo(found.params.owner, found.params.repo) : undefined;
    if (found.params.owner && found.params.repo && !repo) throw new RouteError(404, "Not Found");
    return found.route.handle(this, {
      actor,
      params: found.params,
      query,
      body,
      get repo(): FakeRepo {
        if (!repo) throw new RouteError(404, "Not Found");
        return repo;
      },
    });
  }

  private actorOf(authorization: string | undefined): Actor {
    const [scheme, credential] = (authorization ?? "").split(" ");
    if (!credential) return { kind: "anonymous" };
    if (scheme?.toLowerCase() === "bearer" && credential.split(".").length === 3) {
      // The app's JWT (RS256, signed by Probot): its issuer is the app id.
      const claims = JSON.parse(Buffer.from(credential.split(".")[1]!, "base64url").toString("utf8")) as { iss?: number | string };
      return { kind: "app-jwt", appId: Number(claims.iss) };
    }
    return this.tokens.get(credential) ?? { kind: "anonymous" };
  }
}

function headerOf(headers: Record<string, string> | Headers | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key ? headers[key] : undefined;
}

/**
 * A Response as GitHub sends it: JSON, lists paged with a Link header, and for a GET an ETag of
 * what it holds, answered 304 with no body when the request's If-None-Match names it.
 */
function respond(url: URL, reply: Reply, method: string, ifNoneMatch: string | undefined): Response {
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
  let body = reply.body;
  if (reply.list) {
    const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30));
    const page = Number(url.searchParams.get("page") ?? 1);
    const items = reply.list.items.slice((page - 1) * perPage, page * perPage);
    body = reply.list.wrap ? reply.list.wrap(items, reply.list.items.length) : items;
    if (page * perPage < reply.list.items.length) {
      // As GitHub sends it: the next page and the last one.
      const at = (n: number) => {
        const u = new URL(url);
        u.searchParams.set("page", String(n));
        return u.toString();
      };
      headers.link = `<${at(page + 1)}>; rel="next", <${at(Math.ceil(reply.list.items.length / perPage))}>; rel="last"`;
    }
  }
  const text = body === undefined || reply.status === 204 ? null : JSON.stringify(body);
  if (method === "GET" && reply.status === 200) {
    // As GitHub computes it: from the body alone. A page whose items did not change is answered 304
    // even when a new page now follows it, and the 304 carries no Link header.
    headers.etag = `W/"${createHash("sha1").update(text ?? "").digest("hex")}"`;
    if (ifNoneMatch === headers.etag) return withUrl(new Response(null, { status: 304, headers: { etag: headers.etag } }), url);
  }
  return withUrl(new Response(text, { status: reply.status, headers }), url);
}

/** A Response built by hand has no URL; Octokit's paginator reads it. */
function withUrl(response: Response, url: URL): Response {
  Object.defineProperty(response, "url", { value: url.toString() });
  return response;
}
