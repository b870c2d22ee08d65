import { describe, expect, it } from "@jest/globals";
import { readdirSync, readFileSync } from "node:fs";
import { githubApi } from "./helpers/github-mock.js";
import { matchRoute, ROUTES } from "./helpers/routes.js";

describe("GitHub's REST route table guards every mock", () => {
  it("is Octokit's full table", () => {
    expect(ROUTES.length).toBeGreaterThan(900);
  });

  it("knows the routes the app calls", () => {
    expect(matchRoute("GET", "/repos/acme/access/contents/.github%2Fjit-access.yml?ref=main")).toBe("/repos/{owner}/{repo}/contents/{path}");
    expect(matchRoute("PUT", "/repos/acme/access/pulls/7/merge")).toBe("/repos/{owner}/{repo}/pulls/{pull_number}/merge");
    expect(matchRoute("GET", "/orgs/acme/teams/dba/memberships/bob")).toBe("/orgs/{org}/teams/{team_slug}/memberships/{username}");
  });

  it("refuses to mock an endpoint GitHub does not have", () => {
    expect(() => githubApi().get("/repos/acme/access/pulls/7/approvals")).toThrow("GET /repos/acme/access/pulls/7/approvals is not a route of GitHub's REST API");
    expect(() => githubApi().post("/repos/acme/access/pulls/7")).toThrow("is not a route");
    expect(() => githubApi().delete("/orgs/acme/teams/dba/memberships")).toThrow("is not a route");
  });

  it("is the only way tests mock GitHub: no test calls nock for the API directly", () => {
    const dir = new URL("./", import.meta.url);
    const offenders = readdirSync(dir, { recursive: true })
      .map(String)
      .filter((name) => name.endsWith(".ts") && name !== "helpers/github-mock.ts")
      .filter((name) => /nock\(\s*["'`]https?:\/\/api\.github\.com|nock\(\s*API\b/.test(readFileSync(new URL(name, dir), "utf8")));
    expect(offenders).toEqual([]);
  });
});
