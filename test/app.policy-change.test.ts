import { beforeEach, describe, expect, it } from "@jest/globals";
import type { Probot } from "probot";
import { deliver, mockInstallationToken, startApp } from "./helpers/app.js";
import { blobSha, contents, HEAD, OLD_HEAD, POLICY, visible } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { pullRequest, pullRequestEvent, reviewEvent } from "./helpers/payloads.js";
import { enc, mockApprovalReads, mockCheckRuns, mockCodeownersOnMain, mockComments, mockPolicyOnMain, mockReads, prFields, R, type Scenario } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

/**
 * docs/reference/approvals.md ("Policy changes"): a policy change is an access change. Its check succeeds only when the new policy
 * is valid and every CODEOWNERS group of `.github/jit-access.yml` (on the default branch) has
 * approved the current head, counted as for grants (§4).
 */
guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
let probot: Probot;
beforeEach(async () => {
  probot = await startApp(NOW);
});

const POLICY_PATH = ".github/jit-access.yml";
const OWNERS = `*                        @acme/security
/grants/prod-db/         @acme/dba
/.github/jit-access.yml  @acme/security @acme/platform
`;
// A real change: prod-db's read-only role may now last 6h.
const PROPOSED = POLICY.replace("max_duration: 4h", "max_duration: 6h");

function policyChange(extra: Partial<Scenario> = {}): Scenario {
  return {
    pr: prFields({ number: 8, author: "sec-admin" }),
    files: [{ filename: POLICY_PATH, status: "modified", content: PROPOSED }],
    policy: POLICY,
    codeowners: { path: ".github/CODEOWNERS", text: OWNERS },
    commits: [{ author: "sec-admin", committer: "sec-admin" }],
    ...extra,
  };
}

/** Delivers a review event on the policy PR; expects every read, then exactly one check run created. Returns it. */
async function checkOf(sc: Scenario, options: { approvalReads?: "all" | "codeowners-only"; plan?: { teams: string[]; liveGrants: boolean } } = {}): Promise<any> {
  const api = githubApi();
  mockInstallationToken(api);
  mockReads(api, sc, "policy-only");
  // The proposed policy is read at the head only when the PR changes it (not for a CODEOWNERS-only change).
  const proposed = sc.files.find((f) => f.filename === POLICY_PATH)?.content;
  if (proposed !== undefined) api.get(`${R}/contents/${enc(POLICY_PATH)}`).query({ ref: HEAD }).reply(200, contents(POLICY_PATH, proposed));
  // The access plan: CODEOWNERS as the head has it, when the PR changes it; then the teams its
  // changes name (here the token may not read them: 404, unknown) and, when it narrows, the live grants.
  const owners = sc.files.find((f) => f.filename === ".github/CODEOWNERS")?.content;
  if (owners !== undefined) api.get(`${R}/contents/${enc(".github/CODEOWNERS")}`).query({ ref: HEAD }).reply(200, contents(".github/CODEOWNERS", owners));
  for (const team of options.plan?.teams ?? []) api.get(`/orgs/acme/teams/${team}/members`).query({ per_page: 100 }).reply(404, { message: "Not Found" });
  if (options.plan?.liveGrants) api.get(`${R}/git/trees/main`).query({ recursive: "true" }).reply(200, { sha: "t".repeat(40), url: "", truncated: false, tree: [] });
  if (options.approvalReads === "codeowners-only") mockCodeownersOnMain(api, sc);
  else mockApprovalReads(api, sc);
  let check: any;
  api.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 1 });
  await deliver(probot, "pull_request_review", reviewEvent("submitted", sc.pr, { login: "carol", state: "APPROVED", commitId: HEAD }));
  api.done(); // no merge, no label, no comment: the app never merges a policy change
  return check;
}

describe("a pull request that changes the policy", () => {
  it("without approvals is in progress and names every owner group of the policy file", async () => {
    const check = await checkOf(policyChange());
    expect(check).toMatchObject({ name: "jit-access", head_sha: HEAD, status: "in_progress", output: { title: "Waiting for the policy's owners: @acme/security, @acme/platform" } });
    expect(check.conclusion).toBeUndefined();
    expect(visible(check.output.summary)).toContain("⏳ @acme/security: 0/1");
    expect(visible(check.output.summary)).toContain("⏳ @acme/platform: 0/1");
  });

  it("approved by one group only, is still in progress and names the group still missing", async () => {
    const check = await checkOf(policyChange({ reviews: [{ login: "carol", state: "APPROVED" }], memberships: { "@acme/security:carol": "active", "@acme/platform:carol": "none" } }));
    expect(check).toMatchObject({ status: "in_progress", output: { title: "Waiting for the policy's owners: @acme/platform" } });
    expect(visible(check.output.summary)).toContain("✅ @acme/security: 1/1 (approved by carol)");
  });

  it("approved by every owner group on the current head, succeeds — and is still not merged by the app", async () => {
    const check = await checkOf(policyChange({
      reviews: [{ login: "carol", state: "APPROVED" }, { login: "pat", state: "APPROVED" }],
      memberships: { "@acme/security:carol": "active", "@acme/platform:carol": "none", "@acme/security:pat": "none", "@acme/platform:pat": "active" },
    }));
    expect(check).toMatchObject({ status: "completed", conclusion: "success", output: { title: "The new policy is valid and approved by its owners" } });
    expect(visible(check.output.summary)).toContain("✅ @acme/platform: 1/1 (approved by pat)");
  });

  it("does not count an approval given on an older head whose policy differs, nor one from a committer of the PR", async () => {
    const check = await checkOf(policyChange({
      reviews: [{ login: "dana", state: "APPROVED", commitId: OLD_HEAD }, { login: "pat", state: "APPROVED" }],
      diffAt: { [OLD_HEAD]: [{ filename: POLICY_PATH, status: "modified", content: POLICY.replace("max_duration: 4h", "max_duration: 5h") }] },
      commits: [{ author: "sec-admin", committer: "sec-admin" }, { author: "pat", committer: "pat" }],
      memberships: {},
    }));
    expect(check).toMatchObject({ status: "in_progress", output: { title: "Waiting for the policy's owners: @acme/security, @acme/platform" } });
    expect(visible(check.output.summary)).toContain("dana does not count: given on an older commit whose changes differ from the current ones");
    expect(visible(check.output.summary)).toContain("pat does not count: authored or committed a commit in this pull request");
  });

  it("counts an approval given on an older head with the same policy content", async () => {
    const check = await checkOf(policyChange({
      reviews: [{ login: "dana", state: "APPROVED", commitId: OLD_HEAD }],
      diffAt: { [OLD_HEAD]: [{ filename: POLICY_PATH, status: "modified", content: PROPOSED }] },
      memberships: { "@acme/security:dana": "active", "@acme/platform:dana": "active" },
    }));
    expect(check).toMatchObject({ status: "completed", conclusion: "success" });
  });

  it("with changes requested by an owner stays in progress and says by whom", async () => {
    const check = await checkOf(policyChange({
      reviews: [{ login: "carol", state: "APPROVED" }, { login: "pat", state: "APPROVED" }, { login: "bob", state: "CHANGES_REQUESTED" }],
      memberships: { "@acme/security:carol": "active", "@acme/platform:carol": "none", "@acme/security:pat": "none", "@acme/platform:pat": "active", "@acme/security:bob": "active" },
    }));
    expect(check).toMatchObject({ status: "in_progress", output: { title: "Changes requested by bob" } });
  });

  it("that CODEOWNERS gives no owner fails closed: no approvers mapped", async () => {
    const check = await checkOf(policyChange({ codeowners: { path: ".github/CODEOWNERS", text: "/grants/ @acme/dba\n" } }), { approvalReads: "codeowners-only" });
    expect(check).toMatchObject({ status: "completed", conclusion: "failure", output: { title: "No approvers mapped" } });
    expect(check.output.annotations.map((a: any) => [a.path, a.message])).toEqual([
      [POLICY_PATH, "no approvers mapped: .github/CODEOWNERS on main gives .github/jit-access.yml no owners; a policy change needs its owners' approval"],
    ]);
  });

  it("with other non-grant files next to it gets the same owner requirement for the policy", async () => {
    const sc = policyChange({ pr: prFields({ number: 8, author: "sec-admin", changedFiles: 2 }) });
    sc.files.push({ filename: "docs/access.md", status: "modified", content: "how to ask" });
    const check = await checkOf(sc);
    expect(check).toMatchObject({ status: "in_progress", output: { title: "Waiting for the policy's owners: @acme/security, @acme/platform" } });
  });

  it("closed, costs three reads and writes nothing", async () => {
    const sc = { ...policyChange({ pr: prFields({ number: 8, author: "sec-admin", state: "closed", merged: true }) }), checkRuns: null }; // the PR, the policy, its files: not its check runs
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "policy-only");
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
  });
});

/** Reads of the whole CODEOWNERS chain stop at the first file found, as for grants. */
describe("CODEOWNERS of a policy change", () => {
  it("is read from the default branch even when the PR targets another branch", async () => {
    const sc = policyChange({ pr: prFields({ number: 8, author: "sec-admin", baseRef: "friends" }), codeowners: { path: "CODEOWNERS", text: OWNERS } });
    const check = await checkOf(sc); // mockApprovalReads serves CODEOWNERS at ref=main only
    expect(check.status).toBe("in_progress");
  });
});

/** CODEOWNERS says who approves everything: changing it is a policy change (docs: provenance). */
describe("a pull request that changes CODEOWNERS", () => {
  const OWNED = `${OWNERS}/.github/CODEOWNERS      @acme/admins
`;
  const FRIENDLY = `${OWNED}/grants/                 @friend
`;
  /** `/grants/ @friend` takes prod-db's grants from @acme/dba and prod-admins' from @acme/security: the plan reads both teams, and the live grants (it narrows). */
  const FRIENDLY_PLAN = { teams: ["dba", "security"], liveGrants: true };
  const bothApproved = { "@acme/security:carol": "active", "@acme/platform:carol": "none", "@acme/admins:carol": "none", "@acme/security:pat": "none", "@acme/platform:pat": "active", "@acme/admins:pat": "active" } as const;

  it("alone, gets the policy check and needs the policy's owners and CODEOWNERS' own", async () => {
    const check = await checkOf(policyChange({ files: [{ filename: ".github/CODEOWNERS", status: "modified", content: FRIENDLY }], codeowners: { path: ".github/CODEOWNERS", text: OWNED } }), { plan: FRIENDLY_PLAN });
    expect(check).toMatchObject({ status: "in_progress", output: { title: "Waiting for the policy's owners: @acme/security, @acme/platform, @acme/admins" } });
    expect(visible(check.output.summary)).toContain("This pull request changes .github/CODEOWNERS");
  });

  it("approved by every group on the head, succeeds", async () => {
    const check = await checkOf(policyChange({
      files: [{ filename: ".github/CODEOWNERS", status: "modified", content: FRIENDLY }],
      codeowners: { path: ".github/CODEOWNERS", text: OWNED },
      reviews: [{ login: "carol", state: "APPROVED" }, { login: "pat", state: "APPROVED" }],
      memberships: bothApproved,
    }), { plan: FRIENDLY_PLAN });
    expect(check).toMatchObject({ status: "completed", conclusion: "success" });
  });

  it("pushed after the policy change was approved, makes those approvals stale", async () => {
    // carol and pat approved OLD_HEAD, which changed the policy only; then /grants/ @friend was pushed.
    const sc = policyChange({
      pr: prFields({ number: 8, author: "sec-admin", changedFiles: 2 }),
      files: [{ filename: POLICY_PATH, status: "modified", content: PROPOSED }, { filename: ".github/CODEOWNERS", status: "modified", content: FRIENDLY }],
      codeowners: { path: ".github/CODEOWNERS", text: OWNED },
      reviews: [{ login: "carol", state: "APPROVED", commitId: OLD_HEAD }, { login: "pat", state: "APPROVED", commitId: OLD_HEAD }],
      diffAt: { [OLD_HEAD]: [{ filename: POLICY_PATH, status: "modified", content: PROPOSED }] },
      memberships: {},
    });
    const check = await checkOf(sc, { plan: FRIENDLY_PLAN });
    expect(check.status).toBe("in_progress");
    expect(check.conclusion).toBeUndefined();
    expect(visible(check.output.summary)).toContain("carol does not count: given on an older commit whose changes differ from the current ones");
  });

  it("counts an approval of an older commit whose whole diff is the head's", async () => {
    const files = [{ filename: POLICY_PATH, status: "modified" as const, content: PROPOSED }, { filename: ".github/CODEOWNERS", status: "modified" as const, content: FRIENDLY }];
    const check = await checkOf(policyChange({
      pr: prFields({ number: 8, author: "sec-admin", changedFiles: 2 }),
      files,
      codeowners: { path: ".github/CODEOWNERS", text: OWNED },
      reviews: [{ login: "carol", state: "APPROVED", commitId: OLD_HEAD }, { login: "pat", state: "APPROVED", commitId: OLD_HEAD }],
      diffAt: { [OLD_HEAD]: files },
      memberships: bothApproved,
    }), { plan: FRIENDLY_PLAN });
    expect(check).toMatchObject({ status: "completed", conclusion: "success" });
  });
});

/** GitHub lists a PR's files 100 a page, at most 3,000: what was not listed cannot be judged. */
describe("a pull request with many files", () => {
  const filler = (n: number) => Array.from({ length: n }, (_, i) => ({ sha: "f".repeat(40), filename: `.aaa/filler-${String(i).padStart(3, "0")}.txt`, status: "added", additions: 1, deletions: 0, changes: 1 }));

  it("with its policy change past the first page, is still a policy change", async () => {
    const sc = { ...policyChange({ pr: prFields({ number: 8, author: "sec-admin", changedFiles: 101 }) }), codeowners: { path: ".github/CODEOWNERS", text: "/grants/ @acme/dba\n" } };
    const api = githubApi();
    mockInstallationToken(api);
    api.get(`${R}/pulls/8`).reply(200, pullRequest(sc.pr));
    mockPolicyOnMain(api, sc);
    const next = `https://api.github.com${R}/pulls/8/files?per_page=100&page=2`;
    api.get(`${R}/pulls/8/files`).query({ per_page: 100 }).reply(200, filler(100), { link: `<${next}>; rel="next"` });
    api.get(`${R}/pulls/8/files`).query({ per_page: 100, page: 2 }).reply(200, [{ sha: blobSha(PROPOSED), filename: POLICY_PATH, status: "modified", additions: 1, deletions: 1, changes: 2 }]);
    mockCheckRuns(api, HEAD);
    api.get(`${R}/contents/${enc(POLICY_PATH)}`).query({ ref: HEAD }).reply(200, contents(POLICY_PATH, PROPOSED));
    mockCodeownersOnMain(api, sc);
    let check: any;
    api.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 1 });
    await deliver(probot, "pull_request", pullRequestEvent("opened", sc.pr));
    api.done();
    expect(check).toMatchObject({ conclusion: "failure", output: { title: "No approvers mapped" } }); // judged as a policy change
  });

  it("with more files than GitHub listed, fails its check whatever it touches", async () => {
    // 100 filler files sorted before .github/, and a policy change GitHub did not list.
    const sc: Scenario = { ...policyChange({ pr: prFields({ number: 8, author: "sec-admin", changedFiles: 101 }) }), files: [] };
    const api = githubApi();
    mockInstallationToken(api);
    api.get(`${R}/pulls/8`).reply(200, pullRequest(sc.pr));
    mockPolicyOnMain(api, sc);
    api.get(`${R}/pulls/8/files`).query({ per_page: 100 }).reply(200, filler(100));
    mockCheckRuns(api, HEAD);
    mockComments(api, sc);
    let check: any;
    api.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 1 });
    api.post(`${R}/issues/8/comments`).reply(201, { id: 55 });
    await deliver(probot, "pull_request", pullRequestEvent("opened", sc.pr));
    api.done();
    expect(check).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(check.output.annotations.map((a: any) => a.message)).toEqual([
      "too many files to judge: this pull request changes 101 files and GitHub listed 100; split it so that jit-access can see every file",
    ]);
  });
});
