import { describe, expect, it } from "@jest/globals";
import { embedState, readState, type CommentState } from "../src/lifecycle/codec.js";
import { APP_ID, deliver, fixedClock, mockInstallationToken, startAppWithScheduler } from "./helpers/app.js";
import { blobSha, CODEOWNERS, grantYaml, HEAD, POLICY } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { commentEvent, example, INSTALLATION_ID, pullRequestEvent, repository, reviewEvent } from "./helpers/payloads.js";
import { mockApprovalReads, mockFreshRecord, mockGrantOnMain, mockReads, mockRecordWrites, mockStatusCommentLookup, mockTree, prFields, R, recordRun, type Scenario } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

/**
 * The requester has write access: they can edit or delete the app's comments, relabel the PR,
 * reopen it, dismiss reviews, and run workflows that create check runs. None of it changes what
 * the app believes (docs/reference/invariants.md, invariant 7): the record is this app's check run.
 */
guardNetwork();
const PATH = "grants/prod-admins/alice-1.yaml";
const CONTENT = grantYaml({ resource: "prod-admins", role: "member", duration: "2h" });
const NOW = new Date("2026-11-29T14:00:00Z");

const live: CommentState = {
  v: 1, status: "APPROVED", path: PATH, blob: blobSha(CONTENT),
  grant: { requester: "alice", resource: "prod-admins", role: "member", duration: "2h", reason: "Investigate INC-4211: slow checkout queries" },
  approvers: ["pat"], standing: [], applied_at: "2026-11-29T13:00:05.000Z", starts_at: "2026-11-29T13:00:00.000Z", expires_at: "2026-11-29T15:00:00.000Z",
  warned_at: "2026-11-29T14:50:00.000Z", target: { provider: "github-team", config: { org: "acme", team: "prod-admins" }, grant: {} },
};
const RECORD = embedState("### jit-access · 🟢 Access granted", live);

/** A merged request whose record (the check run) says live; the comment on the PR is whatever the test says. */
function merged(comment: string | null, labels = ["jit:approved"]): Scenario {
  return {
    pr: prFields({ state: "closed", merged: true, labels }),
    files: [{ filename: PATH, status: "added", content: CONTENT }],
    policy: POLICY,
    comments: comment === null ? [] : [{ id: 55, login: "", byApp: true, body: comment }],
    checkRuns: [recordRun(RECORD)],
  };
}

function commentChanged(action: "edited" | "deleted", body: string) {
  const payload = example("issue_comment", action);
  payload.repository = repository();
  payload.installation = { id: INSTALLATION_ID };
  payload.issue = { ...payload.issue, number: 7, pull_request: { url: "https://api.github.com/repos/acme/access/pulls/7" } };
  payload.comment = { ...payload.comment, id: 55, body, performed_via_github_app: { id: APP_ID } };
  payload.sender = { ...payload.sender, login: "alice", type: "User" };
  return payload;
}

function labelChanged(action: "labeled" | "unlabeled", name: string, labels: string[]) {
  const payload = pullRequestEvent(action, prFields({ state: "closed", merged: true, labels }));
  payload.label = { ...payload.label, name };
  payload.sender = { ...payload.sender, login: "alice", type: "User" };
  return payload;
}

async function start() {
  const alerts: string[] = [];
  const started = await startAppWithScheduler(fixedClock(NOW), {}, undefined, undefined, { onAlert: (kind, message) => void alerts.push(`${kind}: ${message}`) });
  return { ...started, alerts };
}

describe("the app's status comment is a display", () => {
  it("edited to move expires_at and add standing access: the record still decides, the comment is restored, and it is reported", async () => {
    const { probot, alerts } = await start();
    const forged = embedState("### jit-access · 🟢 Access granted", { ...live, expires_at: "2027-01-01T00:00:00.000Z", standing: ["github-team:acme/prod-admins:alice"] });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, merged(forged), "through-comments");
    mockGrantOnMain(api, PATH, CONTENT);
    let restored: any;
    api.patch(`${R}/issues/comments/55`, (b) => ((restored = b), true)).reply(200, {});
    await deliver(probot, "issue_comment", commentChanged("edited", forged));
    api.done(); // no record write, no provider call, no label change
    expect(restored.body).toBe(RECORD);
    expect(alerts).toEqual(["tamper: tamper: the status comment of acme/access#7 no longer shows jit-access's record (edited or deleted); restoring it"]);
  });

  it("deleted: posted again from the record; nothing is applied again and no second window starts", async () => {
    const { probot, alerts } = await start();
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, merged(null), "through-comments");
    mockGrantOnMain(api, PATH, CONTENT);
    let reposted: any;
    api.post(`${R}/issues/7/comments`, (b) => ((reposted = b), true)).reply(201, { id: 56 });
    await deliver(probot, "issue_comment", commentChanged("deleted", RECORD));
    api.done(); // in particular: no team membership read or write
    expect(readState(reposted.body)).toEqual(live);
    expect(alerts).toHaveLength(1);
  });

  it("a look-alike record in a check run of another app (a workflow's GITHUB_TOKEN) is never read", async () => {
    const { probot } = await start();
    const forged = embedState("granted", { ...live, expires_at: "2027-01-01T00:00:00.000Z" });
    const sc = merged(RECORD);
    // GitHub answers the app_id filter itself; the loader checks the app again, so a run of app 15368 is ignored even if it came back.
    sc.checkRuns = [{ ...recordRun(forged), id: 999, app: { id: 15368, slug: "github-actions" } }, recordRun(RECORD)];
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments");
    mockGrantOnMain(api, PATH, CONTENT);
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done(); // the real record says live until 15:00, matching the comment: nothing to do
  });
});

describe("labels are a display", () => {
  it("jit:approved removed from a live grant by a person: put back at once, and reported", async () => {
    const { probot, alerts } = await start();
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, { ...merged(RECORD, []), pr: prFields({ state: "closed", merged: true, labels: [] }) }, "through-comments");
    mockGrantOnMain(api, PATH, CONTENT);
    api.post(`${R}/issues/7/labels`, { labels: ["jit:approved"] }).reply(200, []);
    await deliver(probot, "pull_request", labelChanged("unlabeled", "jit:approved", []));
    api.done();
    expect(alerts).toEqual(["tamper: tamper: the labels of acme/access#7 did not show its recorded status (APPROVED); restored"]);
  });

  it("jit:approved added to an expired grant: removed again, and reference counting never sees it (it reads records, not labels)", async () => {
    const { probot } = await start();
    const ended = embedState("expired", { ...live, status: "EXECUTED", revoked_at: "2026-11-29T15:00:00.300Z", revert_pr: 9, revert_pending: false });
    const sc: Scenario = { ...merged(ended, ["jit:expired", "jit:approved"]), checkRuns: [recordRun(ended)] };
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments");
    api.delete(`${R}/issues/7/labels/jit%3Aapproved`).reply(200, []);
    await deliver(probot, "pull_request", labelChanged("labeled", "jit:approved", ["jit:expired", "jit:approved"]));
    api.done();
  });

  it("removing a label that is already gone never fails a delivery", async () => {
    const { probot } = await start();
    const sc: Scenario = { ...merged(RECORD, ["jit:approved", "jit:pending"]) };
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments");
    mockGrantOnMain(api, PATH, CONTENT);
    api.delete(`${R}/issues/7/labels/jit%3Apending`).reply(404, { message: "Label does not exist" });
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
  });

  it("the app's own label changes do not trigger another evaluation", async () => {
    const { probot } = await start();
    const api = githubApi(); // no request at all
    const payload = labelChanged("labeled", "jit:approved", ["jit:approved"]);
    payload.sender = { ...payload.sender, login: "jit-access[bot]", type: "Bot" };
    await deliver(probot, "pull_request", payload);
    api.done();
  });
});

describe("final means final", () => {
  const request = (extra: Partial<Scenario> = {}): Scenario => ({
    pr: prFields({ labels: ["jit:rejected"] }),
    files: [{ filename: "grants/prod-db/alice-1.yaml", status: "added", content: grantYaml() }],
    policy: POLICY,
    codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS },
    memberships: { "@acme/engineering:alice": "active" },
    ...extra,
  });

  it("rejected by an approver, the rejecting review dismissed, the PR reopened: still rejected, closed again, never merged", async () => {
    const { probot } = await start();
    const rejected = embedState("rejected", { v: 1, status: "REJECTED", ended_by: "rejected by bob: changes requested in a review", rejected_by: "bob" });
    const sc = request({
      reviews: [{ login: "bob", state: "DISMISSED" }, { login: "carol", state: "APPROVED" }, { login: "dana", state: "APPROVED" }],
      comments: [{ id: 55, login: "", byApp: true, body: rejected }],
      checkRuns: [recordRun(rejected, { conclusion: "failure", output: { title: "Rejected", summary: "rejected", text: rejected } })],
      events: [{ event: "closed", actor: "jit-access[bot]" }, { event: "reopened", actor: "alice" }],
    });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments"); // the record says rejected: nothing more is read
    api.patch(`${R}/pulls/7`, { state: "closed" }).reply(200, {});
    await deliver(probot, "pull_request", pullRequestEvent("reopened", sc.pr));
    api.done(); // no merge
  });

  it("reopened with new commits (a head the record never saw): the timeline still says it was closed, so it is rejected and never merged", async () => {
    const { probot } = await start();
    const sc = request({
      pr: prFields({ headSha: "9".repeat(40), labels: [] }),
      reviews: [{ login: "carol", state: "APPROVED", commitId: "9".repeat(40) }, { login: "dana", state: "APPROVED", commitId: "9".repeat(40) }],
      events: [{ event: "closed", actor: "jit-access[bot]" }, { event: "reopened", actor: "alice" }],
      memberships: { "@acme/engineering:alice": "active" }, // approvals are not even looked up
    });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc);
    mockApprovalReads(api, sc);
    let check: any;
    api.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 1 });
    api.post(`${R}/issues/7/labels`, { labels: ["jit:rejected"] }).reply(200, []);
    api.patch(`${R}/pulls/7`, { state: "closed" }).reply(200, {});
    api.post(`${R}/issues/7/comments`).reply(201, { id: 57 });
    await deliver(probot, "pull_request_review", reviewEvent("submitted", sc.pr, { login: "dana", state: "APPROVED", commitId: "9".repeat(40) }));
    api.done(); // no merge
    expect(check).toMatchObject({ conclusion: "failure", output: { title: "Rejected" } });
    expect(readState(check.output.text)).toMatchObject({ status: "REJECTED" });
  });

  it("a comment edited into `/jit reject` (or `/jit revoke`) does not count: commands count as first written", async () => {
    const { probot } = await start();
    const sc = request({
      pr: prFields({ labels: ["jit:pending"] }),
      comments: [{ id: 3, login: "carol", body: "/jit reject", createdAt: "2026-11-29T12:10:00Z", updatedAt: "2026-11-29T12:40:00Z" }],
      memberships: { "@acme/engineering:alice": "active" },
    });
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc);
    mockApprovalReads(api, sc);
    let check: any;
    api.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 1 });
    api.post(`${R}/issues/7/comments`).reply(201, { id: 57 });
    // GitHub's delivery of the comment's creation carried what was first written; the edit made it a command.
    await deliver(probot, "issue_comment", commentEvent(sc.pr, { id: 3, login: "carol", body: "Looks reasonable to me" }));
    await deliver(probot, "pull_request", pullRequestEvent("synchronize", sc.pr));
    api.done(); // not closed
    expect(check.status).toBe("in_progress");
  });

});

describe("one commit, one request", () => {
  it("a second PR opened on the head of a live grant fails closed, writes nothing on that head (its refusal is in its comment), and never touches the grant's record", async () => {
    const { probot } = await start();
    const second: Scenario = {
      pr: prFields({ number: 8, labels: [] }),
      files: [{ filename: PATH, status: "added", content: CONTENT }],
      policy: POLICY,
      comments: [],
      checkRuns: [recordRun(RECORD)], // #7's record, on the same head commit
    };
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, second, "through-comments");
    let comment: any;
    api.post(`${R}/issues/8/comments`, (b) => ((comment = b), true)).reply(201, { id: 91 });
    await deliver(probot, "pull_request", pullRequestEvent("opened", second.pr));
    api.done(); // no check run created on the head, and run 77 (#7's record) is never written
    expect(comment.body).toContain("this commit is already the head of request \\#7");

    // Closed: rejected, in its comment and label only; still nothing on #7's head.
    const closed: Scenario = { ...second, pr: prFields({ number: 8, state: "closed", labels: [] }), comments: [{ id: 91, login: "jit-access[bot]", body: comment.body, byApp: true }], checkRuns: [recordRun(RECORD)] };
    const again = githubApi();
    mockReads(again, closed, "through-comments");
    let shown: any;
    again.post(`${R}/issues/8/labels`, { labels: ["jit:rejected"] }).reply(200, []);
    again.patch(`${R}/issues/comments/91`, (b) => ((shown = b), true)).reply(200, { id: 91 });
    await deliver(probot, "pull_request", pullRequestEvent("closed", closed.pr));
    again.done();
    expect(readState(shown.body)).toMatchObject({ status: "REJECTED" });
  });
});

/** A pending request's reads, then exactly: the failing check (captured), jit:rejected, the PR closed, the comment. No merge. */
function expectRejectedAndClosed(sc: Scenario) {
  const seen: { check?: any } = {};
  const api = githubApi();
  mockInstallationToken(api);
  mockReads(api, sc);
  mockApprovalReads(api, sc);
  api.post(`${R}/check-runs`, (b) => ((seen.check = b), true)).reply(201, { id: 1 });
  api.put(`${R}/issues/7/labels`, { labels: ["jit:rejected"] }).reply(200, []);
  api.patch(`${R}/pulls/7`, { state: "closed" }).reply(200, {});
  api.post(`${R}/issues/7/comments`).reply(201, { id: 57 });
  return { api, seen };
}

describe("rejections and revokes that someone tries to take back", () => {
  const request = (extra: Partial<Scenario> = {}): Scenario => ({
    pr: prFields({ labels: ["jit:pending"] }),
    files: [{ filename: "grants/prod-db/alice-1.yaml", status: "added", content: grantYaml() }],
    policy: POLICY,
    codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS },
    ...extra,
  });

  it("an approver's change request dismissed by the requester before the app saw it: the timeline keeps it, and the request is rejected", async () => {
    const { probot } = await start();
    const sc = request({
      reviews: [{ login: "bob", state: "DISMISSED" }, { login: "carol", state: "APPROVED" }, { login: "dana", state: "APPROVED" }],
      events: [{ event: "review_dismissed", actor: "alice", fields: { dismissed_review: { state: "changes_requested", review_id: 100, dismissal_message: "outdated" } } }],
      memberships: { "@acme/engineering:alice": "active", "@acme/dba:bob": "active", "@acme/dba:carol": "active", "@acme/security:carol": "none", "@acme/dba:dana": "none", "@acme/security:dana": "active" },
    });
    const { api, seen } = expectRejectedAndClosed(sc);
    await deliver(probot, "pull_request_review", reviewEvent("dismissed", sc.pr, { login: "bob", state: "DISMISSED", commitId: HEAD }));
    api.done(); // closed, never merged
    const check = seen.check;
    expect(check.output.title).toBe("Rejected");
    expect(check.output.summary).toContain("dismissed by alice; a rejection stands");
  });

  describe("an approver's `/jit reject` counts as first written, whoever edits or deletes it before the app reads it", () => {
    const approverMemberships = { "@acme/engineering:alice": "active", "@acme/dba:carol": "active" } as const;
    const veto = (comments: Scenario["comments"]) => request({ comments, memberships: { ...approverMemberships } });

    it("edited by the requester (one character added) before the app read the timeline: still a veto, and security hears of it", async () => {
      const { probot, alerts } = await start();
      const sc = veto([{ id: 3, login: "carol", body: "/jit reject too broad!", createdAt: "2026-11-29T13:59:00Z", updatedAt: "2026-11-29T13:59:01Z" }]);
      const { api, seen } = expectRejectedAndClosed(sc);
      await deliver(probot, "issue_comment", commentEvent(sc.pr, { id: 3, login: "carol", body: "/jit reject too broad", createdAt: "2026-11-29T13:59:00Z" }));
      api.done(); // closed, never merged
      expect(seen.check.output.summary).toContain("Rejected by carol: too broad.");
      expect(alerts).toEqual(["tamper: tamper: acme/access#7: carol's `/jit reject` comment (3) was edited or deleted after it was written; it counts as first written"]);
    });

    it("deleted before the app read the timeline: still a veto", async () => {
      const { probot } = await start();
      const sc = veto([]);
      const { api, seen } = expectRejectedAndClosed(sc);
      await deliver(probot, "issue_comment", commentEvent(sc.pr, { id: 3, login: "carol", body: "/jit reject too broad", createdAt: "2026-11-29T13:59:00Z" }));
      api.done();
      expect(readState(seen.check.output.text)).toMatchObject({ status: "REJECTED", ended_by: "rejected by carol: too broad" });
    });
  });

  it("approvals that complete after the pending timeout do not count: rejected, not merged", async () => {
    const { probot } = await start();
    const sc = request({
      pr: prFields({ labels: ["jit:pending"], createdAt: "2026-11-29T08:00:00Z" }), // prod-db/read-only times out after 4h
      reviews: [{ login: "carol", state: "APPROVED" }, { login: "dana", state: "APPROVED" }],
      memberships: { "@acme/engineering:alice": "active", "@acme/dba:carol": "active", "@acme/security:carol": "none", "@acme/dba:dana": "none", "@acme/security:dana": "active" },
    });
    const { api, seen } = expectRejectedAndClosed(sc);
    await deliver(probot, "pull_request_review", reviewEvent("submitted", sc.pr, { login: "dana", state: "APPROVED", commitId: HEAD }));
    api.done(); // no merge
    expect(seen.check.output.summary).toContain("timed out");
  });

  it("an admin's `/jit revoke` whose provider call failed is carried out on the retry even after the comment is deleted", async () => {
    const { probot } = await startAppWithScheduler(fixedClock(new Date("2026-11-29T14:05:00Z")));
    const failing = embedState("revoke failing", {
      ...live, ending: { status: "REVOKED", endedBy: "revoked by sam: incident", revert: false },
      revoke_attempts: 1, next_revoke_at: "2026-11-29T14:00:01.000Z", revoke_error: "GitHub said 502",
    });
    const sc = { ...merged(failing), checkRuns: [recordRun(failing)] }; // no command on the timeline any more
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, { ...sc, endDue: true }, "through-comments"); // an end is due: revoked before the timeline is read
    mockTree(api, [{ path: PATH, content: CONTENT }]);
    mockFreshRecord(api, failing); // read again in her turn: not ended meanwhile
    mockStatusCommentLookup(api, sc); // then its display is found and redrawn
    api.delete("/orgs/acme/teams/prod-admins/memberships/alice").reply(204);
    api.put(`${R}/issues/7/labels`, { labels: ["jit:revoked"] }).reply(200, []);
    const written: string[] = [];
    mockRecordWrites(api, 1, written);
    api.patch(`${R}/issues/comments/55`).reply(200, {});
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    api.done();
    expect(readState(written[0]!)).toMatchObject({ status: "REVOKED", ended_by: "revoked by sam: incident" });
    expect(readState(written[0]!)!.ending).toBeUndefined();
  });
});
