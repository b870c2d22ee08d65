import { describe, expect, it } from "@jest/globals";
import { deliver, mockInstallationToken, startApp } from "./helpers/app.js";
import { CODEOWNERS, contents, grantYaml, POLICY } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { pullRequest, pullRequestEvent } from "./helpers/payloads.js";
import { enc, mainHead, mockReads, mockReadsAfterPolicy, prFields, R, type Scenario } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

/**
 * The policy and CODEOWNERS are read once per commit of the default branch (github/snapshot.ts,
 * JudgingFiles): each evaluation reads where the branch points, and the files only at a commit
 * it has not read yet. Every mock must be used and nothing else may be asked (guardNetwork), so
 * each case fails if a file is read again, or not read when it should be.
 */
guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
const applied = `<!-- jit-access:status -->\nGranted\n<!-- jit-access:state ${JSON.stringify({ v: 1, status: "APPROVED", grant: { requester: "alice", resource: "prod-admins", role: "member", duration: "2h", reason: "x" } })} -->\n`;

/** A merged request whose record already holds its verdict: four reads (the PR, main's head, the policy unless known, its files), the check runs, the timeline. */
function live(policy: string | null = POLICY): Scenario {
  return {
    pr: prFields({ state: "closed", merged: true, labels: ["jit:approved"] }),
    files: [{ filename: "grants/prod-admins/alice-1.yaml", status: "added", content: grantYaml({ resource: "prod-admins", role: "member", duration: "2h" }) }],
    policy,
    codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS },
    comments: [{ id: 55, login: "", byApp: true, body: applied }],
  };
}

describe("the default branch's policy, cached by commit", () => {
  it("is read once: a redelivery reads where main points, not the policy again", async () => {
    const probot = await startApp(NOW);
    const first = githubApi();
    mockInstallationToken(first);
    mockReads(first, live(), "through-comments");
    let policyReads = 0;
    first.on("request", (req: { path: string }) => void (req.path.includes("jit-access.yml") && policyReads++));
    await deliver(probot, "pull_request", pullRequestEvent("closed", live().pr));
    first.done();
    expect(policyReads).toBe(1);

    const again = githubApi();
    mockReads(again, live(), "through-comments"); // the same commit: the ref read, no policy read
    await deliver(probot, "pull_request", pullRequestEvent("closed", live().pr));
    again.done();
  });

  it("never hides a change: main moved to a commit without the policy, and the app sees it at once", async () => {
    const probot = await startApp(NOW);
    const first = githubApi();
    mockInstallationToken(first);
    mockReads(first, live(), "through-comments");
    await deliver(probot, "pull_request", pullRequestEvent("closed", live().pr));
    first.done();

    // Another commit: its policy is read (and missing), and nothing more is asked.
    const moved = live(null);
    expect(mainHead(moved)).not.toBe(mainHead(live()));
    const after = githubApi();
    mockReads(after, moved);
    await deliver(probot, "pull_request", pullRequestEvent("closed", moved.pr));
    after.done();
  });

  it("asks for main's head conditionally: GitHub's 304 means the same commit, and nothing else is read", async () => {
    const probot = await startApp(NOW);
    const sc = live();
    const head = mainHead(sc);
    const etag = 'W/"main-etag-1"';
    const first = githubApi();
    mockInstallationToken(first);
    first.get(`${R}/pulls/7`).reply(200, pullRequest(sc.pr));
    first.get(`${R}/git/ref/${enc("heads/main")}`).reply(200, { ref: "refs/heads/main", object: { sha: head, type: "commit" } }, { etag });
    first.get(`${R}/contents/${enc(".github/jit-access.yml")}`).query({ ref: head }).reply(200, contents(".github/jit-access.yml", POLICY));
    mockReadsAfterPolicy(first, sc, "through-comments");
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    first.done();

    const again = githubApi();
    again.get(`${R}/pulls/7`).reply(200, pullRequest(sc.pr));
    again.get(`${R}/git/ref/${enc("heads/main")}`).matchHeader("if-none-match", etag).reply(304);
    mockReadsAfterPolicy(again, sc, "through-comments");
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    again.done();
  });
});
