import { beforeEach, describe, expect, it } from "@jest/globals";
import type nock from "nock";
import type { Probot } from "probot";
import { deliver, mockInstallationToken, startApp } from "./helpers/app.js";
import { CODEOWNERS, grantYaml, HEAD, OLD_HEAD, POLICY, visible } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { commentEvent, pullRequest, pullRequestEvent, reviewEvent } from "./helpers/payloads.js";
import { mockApprovalReads, mockReads, prFields, R, type Scenario } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
let probot: Probot;
beforeEach(async () => {
  probot = await startApp(NOW);
});

const GRANT_PATH = "grants/prod-db/alice-2026-11-29.yaml";

function scenario(extra: Partial<Scenario> = {}, content = grantYaml()): Scenario {
  return {
    pr: prFields({ labels: ["jit:pending"] }),
    files: [{ filename: GRANT_PATH, status: "added", content }],
    policy: POLICY,
    codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS },
    ...extra,
    memberships: { "@acme/engineering:alice": "active", ...extra.memberships },
  };
}

interface Seen {
  check?: any;
  record?: string;
  comment?: any;
  merge?: any;
}

/**
 * Delivers a review event and expects exactly: the reads of the scenario, then the check
 * (created), the label changes given, the merge (if expected) and a new status comment.
 */
async function evaluate(sc: Scenario, expect_: { merge?: boolean | "fails"; labels?: { add?: string[]; remove?: string[] }; close?: boolean; event?: [string, any]; reads?: (api: nock.Scope) => void } = {}): Promise<Seen> {
  const seen: Seen = {};
  const api = githubApi();
  mockInstallationToken(api);
  mockReads(api, sc);
  mockApprovalReads(api, sc);
  expect_.reads?.(api);
  api.post(`${R}/check-runs`, (b) => ((seen.check = b), true)).reply(201, { id: 1 });
  // Labels change in one write: additions alone a POST, one removal alone a DELETE, else the whole set in a PUT.
  const { add = [], remove = [] } = expect_.labels ?? {};
  if (remove.length === 0 && add.length > 0) api.post(`${R}/issues/7/labels`, { labels: add }).reply(200, []);
  else if (remove.length === 1 && add.length === 0) api.delete(`${R}/issues/7/labels/${encodeURIComponent(remove[0]!)}`).reply(200, []);
  else if (remove.length + add.length > 0) api.put(`${R}/issues/7/labels`, { labels: [...sc.pr.labels!.filter((l) => !remove.includes(l)), ...add] }).reply(200, []);
  if (expect_.merge) {
    const merge = api.put(`${R}/pulls/7/merge`, (b) => ((seen.merge = b), true));
    if (expect_.merge === "fails") merge.reply(405, { message: "Merge commits are not allowed on this repository." });
    else {
      merge.reply(200, { merged: true, sha: "m".repeat(40) });
      // Merged: the app looks at once for the merged request, to apply it in the same turn. GitHub
      // does not show the merge yet here, so this evaluation draws its own display after all.
      api.get(`${R}/pulls/7`).reply(200, pullRequest(sc.pr));
    }
  }
  if (expect_.close) api.patch(`${R}/pulls/7`, { state: "closed" }).reply(200, {});
  // A failed merge adds a note to the status comment: the record (the check run's text) is written again first.
  if (expect_.merge === "fails") api.patch(`${R}/check-runs/1`, (b: any) => ((seen.record = b.output.text), true)).reply(200, { id: 1 });
  api.post(`${R}/issues/7/comments`, (b) => ((seen.comment = b), true)).reply(201, { id: 55 });
  const [name, payload] = expect_.event ?? ["pull_request_review", reviewEvent("submitted", sc.pr, { login: "bob", state: "APPROVED", commitId: HEAD })];
  await deliver(probot, name, payload);
  api.done();
  return seen;
}

describe("counting approvals on a request PR", () => {
  it("one of two groups approved: still pending, and the check says who is missing", async () => {
    const seen = await evaluate(scenario({ reviews: [{ login: "bob", state: "APPROVED" }], memberships: { "@acme/dba:bob": "active", "@acme/security:bob": "none" } }));
    expect(seen.check).toMatchObject({ status: "in_progress", output: { title: "Waiting for approvals" } });
    expect(visible(seen.check.output.summary)).toContain("✅ @acme/dba: 1/1 (approved by bob)");
    expect(visible(seen.check.output.summary)).toContain("⏳ @acme/security: 0/1");
  });

  it("both groups approved: success, then the app merges the PR pinned to the approved head, with audit trailers", async () => {
    const sc = scenario({
      reviews: [{ login: "bob", state: "APPROVED" }, { login: "carol", state: "APPROVED" }],
      memberships: { "@acme/dba:bob": "active", "@acme/security:bob": "none", "@acme/dba:carol": "none", "@acme/security:carol": "active" },
    });
    const seen = await evaluate(sc, { merge: true });
    expect(seen.check).toMatchObject({ status: "completed", conclusion: "success", output: { title: "Approved" } });
    expect(seen.merge).toEqual({
      sha: HEAD,
      merge_method: "squash",
      commit_title: "jit: alice → prod-db/read-only for 2h (#7)",
      commit_message: "Jit-Requester: alice\nJit-Access: prod-db/read-only\nJit-Duration: 2h\nJit-Approved-By: bob\nJit-Approved-By: carol",
    });
    expect(visible(seen.comment.body)).toContain("✅ Approved");
  });

  it("a failed merge is reported on the PR, not swallowed", async () => {
    const sc = scenario({
      reviews: [{ login: "dana", state: "APPROVED" }],
      memberships: { "@acme/dba:dana": "active", "@acme/security:dana": "active" },
    });
    const seen = await evaluate(sc, { merge: "fails" });
    expect(seen.record).toBe(seen.comment.body);
    expect(visible(seen.comment.body)).toContain("⚠️ **jit-access could not merge this pull request:** Merge commits are not allowed on this repository.");
  });

  it("a reviewer in both groups satisfies both", async () => {
    const sc = scenario({ reviews: [{ login: "dana", state: "APPROVED" }], memberships: { "@acme/dba:dana": "active", "@acme/security:dana": "active" } });
    const seen = await evaluate(sc, { merge: true });
    expect(seen.merge.commit_message).toContain("Jit-Approved-By: dana");
  });

  it("an approval given before a push that changed the grant does not count", async () => {
    const sc = scenario({
      reviews: [{ login: "dana", state: "APPROVED", commitId: OLD_HEAD }],
      contentAt: { [OLD_HEAD]: grantYaml({ duration: "30m" }) },
      commits: [{ author: "alice", committer: "alice" }, { author: "alice", committer: "alice" }],
    });
    const seen = await evaluate(sc);
    expect(seen.check.status).toBe("in_progress");
    expect(visible(seen.comment.body)).toContain("dana: given on an older commit whose grant file differs from the current one");
  });

  it("an approval on an older commit with the same grant content still counts", async () => {
    const sc = scenario({
      reviews: [{ login: "dana", state: "APPROVED", commitId: OLD_HEAD }],
      contentAt: { [OLD_HEAD]: grantYaml() },
      memberships: { "@acme/dba:dana": "active", "@acme/security:dana": "active" },
    });
    await evaluate(sc, { merge: true });
  });

  it("an approval by someone who committed to the PR does not count", async () => {
    const sc = scenario({ reviews: [{ login: "dana", state: "APPROVED" }], commits: [{ author: "alice", committer: "alice" }, { author: "dana", committer: "dana" }] });
    const seen = await evaluate(sc);
    expect(visible(seen.comment.body)).toContain("dana: authored or committed a commit in this pull request");
  });

  it("an approval by a non-member, or by a member whose invitation is pending, does not count", async () => {
    const sc = scenario({
      reviews: [{ login: "eve", state: "APPROVED" }, { login: "frank", state: "APPROVED" }],
      memberships: { "@acme/dba:eve": "none", "@acme/security:eve": "none", "@acme/dba:frank": "pending", "@acme/security:frank": "none" },
    });
    const seen = await evaluate(sc);
    expect(seen.check.status).toBe("in_progress");
    expect(visible(seen.comment.body)).toContain("eve: not a member of @acme/dba or @acme/security");
    expect(visible(seen.comment.body)).toContain("frank: not a member of @acme/dba or @acme/security");
  });

  it("a dismissed approval no longer counts", async () => {
    const sc = scenario({ reviews: [{ login: "dana", state: "DISMISSED" }] });
    const seen = await evaluate(sc, { event: ["pull_request_review", reviewEvent("dismissed", prFields({ labels: ["jit:pending"] }), { login: "dana", state: "DISMISSED", commitId: HEAD })] });
    expect(seen.check.status).toBe("in_progress");
  });

  it("break-glass: one approval from break_glass.approvers replaces CODEOWNERS, and the comment says so loudly", async () => {
    const sc = scenario({ reviews: [{ login: "oscar", state: "APPROVED" }], memberships: { "@acme/oncall:oscar": "active" } }, grantYaml({ emergency: true, duration: "1h" }));
    const seen = await evaluate(sc, { merge: true });
    expect(seen.merge.commit_message).toContain("Jit-Break-Glass: true");
    expect(visible(seen.comment.body)).toContain("> [!CAUTION]\n> **Break-glass request.**");
  });

  it("auto_approve: a requester in the group needs no approvals, and it is recorded", async () => {
    const policy = POLICY.replace("        approvals: { min_per_group: 1, mode: all }\n      read-write", '        approvals: { min_per_group: 1, mode: all }\n        auto_approve: ["@acme/sre"]\n      read-write');
    const sc = scenario({ policy, memberships: { "@acme/sre:alice": "active" } });
    const seen = await evaluate(sc, { merge: true });
    expect(seen.merge.commit_message).toContain("Jit-Auto-Approved-By: @acme/sre");
    expect(visible(seen.comment.body)).toContain("approved automatically: the requester is in @acme/sre (auto_approve)");
  });

  it("merge: manual leaves the merge to a person", async () => {
    const sc = scenario({ policy: POLICY.replace("merge: auto", "merge: manual"), reviews: [{ login: "dana", state: "APPROVED" }], memberships: { "@acme/dba:dana": "active", "@acme/security:dana": "active" } });
    const seen = await evaluate(sc);
    expect(seen.check.conclusion).toBe("success");
    expect(visible(seen.comment.body)).toContain("(merge: manual)");
  });

  it("CODEOWNERS lines GitHub cannot honour are skipped and shown as warnings in the check", async () => {
    const sc = scenario({ codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS + "/grants/prod-db/*.yaml dba@acme.example @acme/dba @acme/security\n" } });
    const seen = await evaluate(sc);
    expect(visible(seen.check.output.summary)).toContain("CODEOWNERS lines skipped");
    expect(visible(seen.check.output.summary)).toContain(".github/CODEOWNERS:5:1: email owner dba@acme.example cannot be checked against reviews; use @login or @org/team");
  });

  it("a path without owners fails closed: no approvers mapped", async () => {
    const sc = scenario({ codeowners: { path: "CODEOWNERS", text: "/grants/prod-admins/ @acme/platform\n" } });
    const seen = await evaluate(sc, { labels: { remove: ["jit:pending"] } });
    expect(seen.check).toMatchObject({ conclusion: "failure", output: { title: "No approvers mapped" } });
    expect(seen.check.output.annotations[0].message).toBe(`no approvers mapped: CODEOWNERS on main gives ${GRANT_PATH} no owners`);
  });
});

describe("where approvals are read from", () => {
  it("reviews come with the timeline: an approval a review_dismissed event names does not count, whatever state its own event shows", async () => {
    // Review 100 is dana's approval; the timeline's `reviewed` event still says "approved", but a
    // `review_dismissed` event names it: dismissed.
    const sc = scenario({
      reviews: [{ login: "dana", state: "APPROVED" }],
      events: [{ event: "review_dismissed", actor: "erin", fields: { dismissed_review: { state: "approved", review_id: 100, dismissal_message: "stale" } } }],
    });
    const seen = await evaluate(sc);
    expect(seen.check).toMatchObject({ status: "in_progress", output: { title: "Waiting for approvals" } });
    expect(visible(seen.check.output.summary)).toContain("⏳ @acme/dba: 0/1");
    expect(visible(seen.check.output.summary)).toContain("⏳ @acme/security: 0/1");
  });

  it("a team larger than one page of members is asked one person at a time; a smaller one answers from its list", async () => {
    const sc = scenario({ reviews: [{ login: "dana", state: "APPROVED" }], memberships: { "@acme/security:dana": "active" } });
    const seen = await evaluate(sc, {
      merge: true,
      reads: (api) => {
        const next = `<https://api.github.com/organizations/1/team/2/members?per_page=100&page=2>; rel="next"`;
        api.get("/orgs/acme/teams/dba/members").query({ per_page: 100 }).reply(200, [{ login: "someone-else", id: 1, type: "User" }], { link: next });
        api.get("/orgs/acme/teams/dba/memberships/dana").reply(200, { url: "", role: "member", state: "active" });
      },
    });
    expect(seen.merge.commit_message).toContain("Jit-Approved-By: dana");
  });

  it("a team's list counts only who is on it: a reviewer missing from it is not a member", async () => {
    const sc = scenario({ reviews: [{ login: "dana", state: "APPROVED" }], memberships: { "@acme/dba:dana": "pending", "@acme/security:dana": "active" } });
    const seen = await evaluate(sc);
    expect(visible(seen.check.output.summary)).toContain("⏳ @acme/dba: 0/1");
    expect(visible(seen.check.output.summary)).toContain("✅ @acme/security: 1/1 (approved by dana)");
  });
});

describe("rejecting a request", () => {
  it("changes requested by an approver: jit:rejected, closed, reason shown", async () => {
    const sc = scenario({ reviews: [{ login: "bob", state: "CHANGES_REQUESTED" }], memberships: { "@acme/dba:bob": "active" } });
    const seen = await evaluate(sc, { close: true, labels: { remove: ["jit:pending"], add: ["jit:rejected"] } });
    expect(seen.check).toMatchObject({ conclusion: "failure", output: { title: "Rejected" } });
    expect(visible(seen.comment.body)).toContain("Rejected by bob: changes requested in a review. Nothing was granted.");
  });

  it("`/jit reject <reason>` by an approver rejects with the reason", async () => {
    const sc = scenario({ comments: [{ id: 3, login: "carol", body: "/jit reject use the read replica instead" }], memberships: { "@acme/dba:carol": "none", "@acme/security:carol": "active" } });
    const seen = await evaluate(sc, { close: true, labels: { remove: ["jit:pending"], add: ["jit:rejected"] }, event: ["issue_comment", commentEvent(sc.pr, { login: "carol", body: "/jit reject use the read replica instead" })] });
    expect(visible(seen.comment.body)).toContain("Rejected by carol: use the read replica instead.");
  });

  it("`/jit reject` by someone who is not an approver changes nothing", async () => {
    const sc = scenario({ comments: [{ id: 3, login: "mallory", body: "/jit reject" }], memberships: { "@acme/dba:mallory": "none", "@acme/security:mallory": "none" } });
    const seen = await evaluate(sc, { event: ["issue_comment", commentEvent(sc.pr, { login: "mallory", body: "/jit reject" })] });
    expect(seen.check.status).toBe("in_progress");
  });

  it("a pending request past its pending_timeout is closed as timed out", async () => {
    const sc = scenario({ pr: prFields({ labels: ["jit:pending"], createdAt: "2026-11-29T08:59:00Z" }) }); // read-only: pending_timeout 4h
    const seen = await evaluate(sc, { close: true, labels: { remove: ["jit:pending"], add: ["jit:rejected"] }, event: ["pull_request", pullRequestEvent("synchronize", sc.pr)] });
    expect(visible(seen.comment.body)).toContain("Rejected by jit-access: timed out: not approved within the pending timeout.");
  });

  it("comments that are not commands, or not on pull requests, cost nothing", async () => {
    const api = githubApi();
    await deliver(probot, "issue_comment", commentEvent(prFields(), { login: "bob", body: "looks good" }));
    await deliver(probot, "issue_comment", commentEvent(prFields(), { login: "bob", body: "/jit reject", onPullRequest: false }));
    api.done();
  });
});

describe("a request closed without merging", () => {
  it("is labelled jit:rejected, and its comment says nothing was granted", async () => {
    const pr = prFields({ state: "closed", labels: ["jit:pending"] });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, scenario({ pr }), "through-comments");
    api.put(`${R}/issues/7/labels`, { labels: ["jit:rejected"] }).reply(200, []);
    let comment: any;
    let record: any;
    // The rejection is recorded in a check run of the app's own (a reopen of the same head finds it), then shown.
    api.post(`${R}/check-runs`, (b) => ((record = b), true)).reply(201, { id: 1 });
    api.post(`${R}/issues/7/comments`, (b) => ((comment = b), true)).reply(201, { id: 55 });
    await deliver(probot, "pull_request", pullRequestEvent("closed", pr));
    api.done();
    expect(record).toMatchObject({ name: "jit-access", head_sha: HEAD, status: "completed", conclusion: "neutral", output: { text: comment.body } });
    expect(visible(comment.body)).toContain("closed without merging: the request is rejected and nothing was granted");
  });
});
