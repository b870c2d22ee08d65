import { beforeEach, describe, expect, it } from "@jest/globals";
import type { Probot } from "probot";
import { loadPolicy } from "../src/policy/load.js";
import { providerFactory } from "../src/providers/registry.js";
import { sweepAllInstallations } from "../src/scheduler/cron.js";
import { shortestPendingTimeout, timeoutCandidates } from "../src/scheduler/sweep.js";
import { APP_ID, deliver, mockInstallationToken, startApp } from "./helpers/app.js";
import { CODEOWNERS, contents, grantYaml, HEAD, POLICY, visible } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { example, INSTALLATION_ID, OWNER, REPO } from "./helpers/payloads.js";
import { enc, mockApprovalReads, mockCheckRuns, mockReads, prFields, R, type Scenario } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
let probot: Probot;
beforeEach(async () => {
  probot = await startApp(NOW);
});

const policy = () => {
  const r = loadPolicy(".github/jit-access.yml", POLICY);
  if (!r.ok) throw new Error("fixture policy invalid");
  return r.policy;
};

function searchHit(number: number, createdAt: string) {
  return { number, created_at: createdAt, repository_url: `https://api.github.com/repos/${OWNER}/${REPO}`, pull_request: { url: "" }, labels: [{ name: "jit:pending" }], state: "open", title: "request" };
}

const SEARCH = { q: `is:pr is:open label:"jit:pending" org:${OWNER}`, per_page: 100 };
const UNAPPLIED = { q: `is:pr is:merged label:"jit:pending" org:${OWNER}`, per_page: 100 };
const emptySearch = { total_count: 0, incomplete_results: false, items: [] };

function mockInstallations(api: ReturnType<typeof githubApi>) {
  api.get("/app/installations").query({ per_page: 100 }).reply(200, [{ id: INSTALLATION_ID, account: { login: OWNER, type: "Organization" }, app_id: APP_ID }]);
}

describe("choosing what to re-evaluate (pure)", () => {
  it("no request younger than the shortest pending_timeout of the policy can have timed out", () => {
    expect(shortestPendingTimeout(policy())).toBe(4 * 3600_000); // prod-db/read-only
    const pending = [
      { owner: OWNER, repo: REPO, number: 1, createdAt: "2026-11-29T09:30:00Z" },
      { owner: OWNER, repo: REPO, number: 2, createdAt: "2026-11-29T08:30:00Z" },
    ];
    expect(timeoutCandidates(pending, policy(), NOW).map((p) => p.number)).toEqual([2]);
  });
});

describe("the sweep", () => {
  it("with nothing pending costs two searches per installation", async () => {
    const api = githubApi();
    mockInstallations(api);
    mockInstallationToken(api);
    api.get("/search/issues").query(SEARCH).reply(200, emptySearch);
    api.get("/search/issues").query(UNAPPLIED).reply(200, emptySearch);
    expect(await sweepAllInstallations(probot, { appId: APP_ID, now: () => NOW, providers: providerFactory({}) })).toEqual({ installations: 1, evaluated: 0 });
    api.done();
  });

  it("reads the policy once for a repository with pending requests, and evaluates only those old enough", async () => {
    const api = githubApi();
    mockInstallations(api);
    mockInstallationToken(api);
    api.get("/search/issues").query(SEARCH).reply(200, { total_count: 1, incomplete_results: false, items: [searchHit(7, "2026-11-29T10:00:00Z")] });
    api.get(`${R}/contents/${enc(".github/jit-access.yml")}`).reply(200, contents(".github/jit-access.yml", POLICY));
    api.get("/search/issues").query(UNAPPLIED).reply(200, emptySearch);
    expect(await sweepAllInstallations(probot, { appId: APP_ID, now: () => NOW, providers: providerFactory({}) })).toEqual({ installations: 1, evaluated: 0 });
    api.done();
  });

  it("closes a request that outlived its pending_timeout, after a restart as much as before (nothing is kept in memory)", async () => {
    const pr = prFields({ labels: ["jit:pending"], createdAt: "2026-11-29T08:00:00Z" });
    const sc: Scenario = {
      pr,
      files: [{ filename: "grants/prod-db/alice-1.yaml", status: "added", content: grantYaml() }],
      policy: POLICY,
      codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS },
      memberships: { "@acme/engineering:alice": "active" },
    };
    const api = githubApi();
    mockInstallations(api);
    mockInstallationToken(api);
    api.get("/search/issues").query(SEARCH).reply(200, { total_count: 1, incomplete_results: false, items: [searchHit(7, pr.createdAt!)] });
    api.get(`${R}/contents/${enc(".github/jit-access.yml")}`).reply(200, contents(".github/jit-access.yml", POLICY));
    mockReads(api, sc);
    mockApprovalReads(api, sc);
    mockCheckRuns(api, HEAD);
    api.post(`${R}/check-runs`).reply(201, { id: 1 });
    api.delete(`${R}/issues/7/labels/jit%3Apending`).reply(200, []);
    api.post(`${R}/issues/7/labels`, { labels: ["jit:rejected"] }).reply(200, []);
    api.patch(`${R}/pulls/7`, { state: "closed" }).reply(200, {});
    let comment: any;
    api.post(`${R}/issues/7/comments`, (b) => ((comment = b), true)).reply(201, { id: 55 });
    api.get("/search/issues").query(UNAPPLIED).reply(200, emptySearch);

    const restarted = await startApp(NOW);
    expect(await sweepAllInstallations(restarted, { appId: APP_ID, now: () => NOW, providers: providerFactory({}) })).toEqual({ installations: 1, evaluated: 1 });
    api.done();
    expect(visible(comment.body)).toContain("timed out: not approved within the pending timeout");
  });

  it("re-evaluates merged requests that wait for their start or a retry", async () => {
    const api = githubApi();
    mockInstallations(api);
    mockInstallationToken(api);
    api.get("/search/issues").query(SEARCH).reply(200, emptySearch);
    api.get("/search/issues").query(UNAPPLIED).reply(200, { total_count: 1, incomplete_results: false, items: [searchHit(7, "2026-11-29T10:00:00Z")] });
    // Its repository has lost its policy since: the evaluation stops after two reads.
    mockReads(api, { pr: prFields({ state: "closed", merged: true }), files: [], policy: null });
    expect(await sweepAllInstallations(probot, { appId: APP_ID, now: () => NOW, providers: providerFactory({}) })).toEqual({ installations: 1, evaluated: 1 });
    api.done();
  });
});

describe("a team membership change", () => {
  it("re-evaluates the organization's pending requests", async () => {
    const payload = example("membership", "added");
    payload.organization = { ...payload.organization, login: OWNER };
    payload.installation = { id: INSTALLATION_ID };
    const api = githubApi();
    mockInstallationToken(api);
    api.get("/search/issues").query(SEARCH).reply(200, { total_count: 1, incomplete_results: false, items: [searchHit(7, "2026-11-29T12:00:00Z")] });
    // The request's repository has since lost its policy: the evaluation stops after two reads.
    mockReads(api, { pr: prFields(), files: [], policy: null });
    await deliver(probot, "membership", payload);
    api.done();
  });
});
