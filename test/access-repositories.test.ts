import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import nock from "nock";
import type { Probot } from "probot";
import { AccessRepositorySet, isAccessRepository, parseAccessRepositories } from "../src/config.js";
import type { JitApp } from "../src/app.js";
import { APP_ID, deliver, fixedClock, mockInstallationToken, startAppWithScheduler } from "./helpers/app.js";
import { contents, POLICY } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { commentEvent, example, INSTALLATION_ID, OWNER, pullRequestEvent, reviewEvent } from "./helpers/payloads.js";
import { enc, mockReads, mockTree, prFields, R } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

/**
 * JIT_ACCESS_REPOSITORIES (docs/reference/access-repository.md): when set, only the named repositories are access
 * repositories; any other is ignored entirely, before the app makes a single request for it.
 */
guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
const LISTED = { JIT_ACCESS_REPOSITORIES: " ACME/Access , acme/tools " };

/** Every request nock could not match (none may happen; nock refuses them, this says which). */
let unmatched: string[] = [];
const record = (req: { method?: string; path?: string }) => unmatched.push(`${req.method} ${req.path}`);
beforeEach(() => {
  unmatched = [];
  nock.emitter.on("no match", record);
});
afterEach(() => {
  nock.emitter.removeListener("no match", record);
});

/** A delivery for another repository of the same organization, from the real example payloads. */
function elsewhere(payload: Record<string, any>, repo = "other"): Record<string, any> {
  payload.repository = { ...payload.repository, id: payload.repository.id + 1, name: repo, full_name: `${OWNER}/${repo}` };
  return payload;
}

describe("reading JIT_ACCESS_REPOSITORIES (pure)", () => {
  it("unset: every installed repository with a policy", () => {
    const r = parseAccessRepositories(undefined);
    expect(r).toEqual({ ok: true, repositories: { names: null } });
    if (r.ok) expect(isAccessRepository(r.repositories, { owner: "anyone", repo: "anything" })).toBe(true);
  });

  it("set: only the listed repositories, case-insensitively, spaces around names ignored", () => {
    const r = parseAccessRepositories(LISTED.JIT_ACCESS_REPOSITORIES);
    if (!r.ok) throw new Error(r.error);
    expect([...r.repositories.names!]).toEqual(["acme/access", "acme/tools"]);
    expect(isAccessRepository(r.repositories, { owner: "Acme", repo: "ACCESS" })).toBe(true);
    expect(isAccessRepository(r.repositories, { owner: "acme", repo: "other" })).toBe(false);
    expect(isAccessRepository(r.repositories, { owner: "evil", repo: "access" })).toBe(false);
  });

  it("set but empty: no repository counts (fails closed)", () => {
    const r = parseAccessRepositories(" ");
    if (!r.ok) throw new Error(r.error);
    expect(isAccessRepository(r.repositories, { owner: "acme", repo: "access" })).toBe(false);
  });

  it("a listed repository renamed or transferred stays in, by the id it was first seen with, and the app warns with both names", () => {
    const r = parseAccessRepositories(LISTED.JIT_ACCESS_REPOSITORIES);
    if (!r.ok) throw new Error(r.error);
    const warnings: string[] = [];
    const set = new AccessRepositorySet(r.repositories, (m) => warnings.push(m));
    expect(set.includes({ owner: "acme", repo: "vault", id: 77 })).toBe(false); // not listed: its id is not remembered
    expect(set.includes({ owner: "Acme", repo: "Access", id: 42 })).toBe(true); // seen at start-up
    expect(set.includes({ owner: "acme", repo: "access-v2" })).toBe(false); // a name alone: unknown yet
    expect(set.includes({ owner: "acme", repo: "access-v2", id: 42 })).toBe(true); // renamed: the same id
    expect(set.includes({ owner: "platform", repo: "access-v2", id: 42 })).toBe(true); // then transferred
    expect(warnings).toEqual([
      "JIT_ACCESS_REPOSITORIES names acme/access, which is now acme/access-v2 (renamed or transferred; the same repository, id 42): it is kept as an access repository. Update JIT_ACCESS_REPOSITORIES to the new name.",
      "JIT_ACCESS_REPOSITORIES names acme/access, which is now platform/access-v2 (renamed or transferred; the same repository, id 42): it is kept as an access repository. Update JIT_ACCESS_REPOSITORIES to the new name.",
    ]);
    expect(set.includes({ owner: "acme", repo: "access-v2" })).toBe(true); // by the name it goes by now (searches give no id)
    expect(set.includes({ owner: "acme", repo: "access-v2", id: 42 })).toBe(true);
    expect(warnings).toHaveLength(2); // once per new name
    expect(set.includes({ owner: "acme", repo: "access-v2", id: 99 })).toBe(false); // another repository that took that name
    expect(set.includes({ owner: "acme", repo: "vault", id: 77 })).toBe(false);
  });

  it.each(["acme", "acme/access/extra", "https://github.com/acme/access", "acme/access, acme/", "acme /access"])("%j is refused with the entry named", (value) => {
    const r = parseAccessRepositories(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^JIT_ACCESS_REPOSITORIES: ".*" is not owner\/repo \(expected a comma-separated list such as acme\/access,acme\/tools\)$/);
  });
});

describe("the app with JIT_ACCESS_REPOSITORIES set", () => {
  let probot: Probot;
  let app: JitApp;
  beforeEach(async () => {
    ({ probot, app } = await startAppWithScheduler(fixedClock(NOW), LISTED));
  });

  it("makes no request at all for an event in a repository outside the list, even a policy read", async () => {
    const api = githubApi(); // no routes: any request would be unmatched
    const pr = prFields();
    await deliver(probot, "pull_request", elsewhere(pullRequestEvent("opened", pr)));
    await deliver(probot, "pull_request_review", elsewhere(reviewEvent("submitted", pr, { login: "bob", state: "APPROVED", commitId: pr.headSha })));
    await deliver(probot, "issue_comment", elsewhere(commentEvent(pr, { login: "bob", body: "/jit reject no" })));
    api.done();
    expect(unmatched).toEqual([]);
  });

  it("evaluates an event in a listed repository as usual", async () => {
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, { pr: prFields(), files: [], policy: null }); // acme/access: read, no policy there now
    await deliver(probot, "pull_request", pullRequestEvent("opened", prFields()));
    api.done();
    expect(unmatched).toEqual([]);
  });

  it("a membership change re-evaluates only the listed repositories' pending requests", async () => {
    const payload = example("membership", "added");
    payload.organization = { ...payload.organization, login: OWNER };
    payload.installation = { id: INSTALLATION_ID };
    const api = githubApi();
    mockInstallationToken(api);
    api.get("/search/issues").query({ q: `is:pr is:open label:"jit:pending" org:${OWNER}`, per_page: 100 }).reply(200, found([hit("other", 3), hit("access", 7)]));
    mockReads(api, { pr: prFields(), files: [], policy: null }); // only acme/access#7
    await deliver(probot, "membership", payload);
    api.done();
    expect(unmatched).toEqual([]);
  });

  it("the sweep and the start-up rebuild read nothing of a repository outside the list", async () => {
    const api = githubApi();
    mockInstallationToken(api);
    api.get("/app/installations").query({ per_page: 100 }).times(2).reply(200, [{ id: INSTALLATION_ID, account: { login: OWNER, type: "Organization" }, app_id: APP_ID, suspended_at: null }]);
    // The rebuild: acme/other (its live and unapplied grants) is passed over by name; acme/access is read.
    const repository = (name: string) => ({ name, owner: { login: OWNER }, default_branch: "main", archived: false });
    api.get("/installation/repositories").query({ per_page: 100 }).reply(200, { total_count: 2, repositories: [repository("other"), repository("access")] });
    mockTree(api, []); // acme/access holds the policy and no grant file
    api.get(`${R}/pulls`).query({ state: "open", sort: "updated", direction: "desc", per_page: 100 }).reply(200, []);
    // Merged requests labelled live or applying whose files were not found: acme/other's are passed over too.
    api.get("/search/issues").query({ q: `is:pr is:merged label:"jit:approved" org:${OWNER}`, per_page: 100 }).reply(200, found([hit("other", 5)]));
    api.get("/search/issues").query({ q: `is:pr is:merged label:"jit:pending" org:${OWNER}`, per_page: 100 }).reply(200, found([]));
    await app.scheduler.rebuild();
    expect([...app.scheduler.accessRepositories]).toEqual(["acme/access"]);
    // The sweep after it: what changed, pending requests, blocked reverts — all but one in acme/other.
    const search = (q: string, items: unknown[]) => api.get("/search/issues").query({ q, per_page: 100 }).reply(200, found(items));
    search(`is:pr org:${OWNER} updated:>=2026-11-29T12:55:00Z`, [hit("other", 1, "2026-11-29T12:58:00Z"), hit("other", 2, "2026-11-29T12:59:00Z")]);
    search(`is:pr is:open label:"jit:pending" org:${OWNER}`, [hit("other", 3, "2026-11-28T00:00:00Z"), hit("access", 7, "2026-11-29T12:59:00Z")]);
    search(`is:pr is:merged label:"jit:revert-blocked" org:${OWNER}`, [hit("other", 4)]);
    // acme/access's pending request is too young to have timed out: its policy is read, nothing more.
    api.get(`${R}/contents/${enc(".github/jit-access.yml")}`).reply(200, contents(".github/jit-access.yml", POLICY));
    await app.scheduler.sweep();
    api.done();
    expect(unmatched).toEqual([]);
    expect(app.scheduler.index.size).toBe(0);
  });
});

describe("the start-up log", () => {
  it("warns when JIT_ACCESS_REPOSITORIES is unset", async () => {
    const log: { level: string; msg: string }[] = [];
    await startAppWithScheduler(fixedClock(NOW), {}, undefined, log);
    expect(log).toContainEqual({
      level: "warn",
      msg: "JIT_ACCESS_REPOSITORIES is not set: every repository this app is installed on that has .github/jit-access.yml on its default branch is an access repository. Install the app on access repositories only, or set JIT_ACCESS_REPOSITORIES=owner/repo,...",
    });
  });

  it("names the repositories when it is set, and warns when it names none", async () => {
    const log: { level: string; msg: string }[] = [];
    await startAppWithScheduler(fixedClock(NOW), LISTED, undefined, log);
    expect(log).toContainEqual({ level: "info", msg: "access repositories (JIT_ACCESS_REPOSITORIES): acme/access, acme/tools; every other repository is ignored" });
    expect(log.filter((l) => l.level === "warn")).toEqual([]);
    const none: { level: string; msg: string }[] = [];
    await startAppWithScheduler(fixedClock(NOW), { JIT_ACCESS_REPOSITORIES: "" }, undefined, none);
    expect(none).toContainEqual({ level: "warn", msg: "JIT_ACCESS_REPOSITORIES is set but names no repository: every repository is ignored" });
  });
});

function hit(repo: string, number: number, createdAt = "2026-11-29T10:00:00Z") {
  return { number, created_at: createdAt, updated_at: createdAt, repository_url: `https://api.github.com/repos/${OWNER}/${repo}`, html_url: `https://github.com/${OWNER}/${repo}/pull/${number}`, pull_request: { url: "" }, state: "open", title: "request", user: { login: "alice" } };
}

function found(items: unknown[]) {
  return { total_count: items.length, incomplete_results: false, items };
}
