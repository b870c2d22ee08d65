import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { embedState, readState } from "../src/lifecycle/codec.js";
import { Notifier } from "../src/notify/deliver.js";
import { deliver, fixedClock, mockInstallationToken, startAppWithScheduler } from "./helpers/app.js";
import { CODEOWNERS, grantYaml, HEAD, POLICY } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { pullRequestEvent } from "./helpers/payloads.js";
import { startReceiver, type Receiver } from "./helpers/receiver.js";
import { mockApprovalReads, mockFreshRecord, mockGrantOnMain, mockReads, mockRecordWrites, prFields, R, type Scenario } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
const NOTIFYING_POLICY = `${POLICY}notifications:\n  slack_webhook_env: JIT_SLACK_URL\n`;
let slack: Receiver;
let notifier: Notifier;
beforeEach(async () => {
  slack = await startReceiver();
  notifier = new Notifier({ JIT_SLACK_URL: slack.url }, { warn() {} }, { backoffMs: [5], timeoutMs: 2_000 });
});
afterEach(() => slack.close());

function request(extra: Partial<Scenario> = {}): Scenario {
  return {
    pr: prFields(),
    files: [{ filename: "grants/prod-db/alice-1.yaml", status: "added", content: grantYaml() }],
    policy: NOTIFYING_POLICY,
    codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS },
    memberships: { "@acme/engineering:alice": "active" },
    ...extra,
  };
}

async function opened(sc: Scenario, expectComment: (api: ReturnType<typeof githubApi>, capture: { body?: string }) => void) {
  const { probot } = await startAppWithScheduler(fixedClock(NOW), {}, notifier);
  const api = githubApi();
  mockInstallationToken(api);
  mockReads(api, sc);
  mockApprovalReads(api, sc);
  api.post(`${R}/check-runs`).reply(201, { id: 1 });
  if (!sc.pr.labels?.includes("jit:pending")) api.post(`${R}/issues/7/labels`).reply(200, []);
  const capture: { body?: string } = {};
  expectComment(api, capture);
  await deliver(probot, "pull_request", pullRequestEvent("opened", sc.pr));
  await notifier.settled();
  api.done();
  return capture;
}

describe("notifications through the app", () => {
  it("a new request is announced to approvers once, and recorded as announced", async () => {
    const capture = await opened(request(), (api, c) => api.post(`${R}/issues/7/comments`, (b: any) => ((c.body = b.body), true)).reply(201, { id: 55 }));
    expect(readState(capture.body!)!.notified).toEqual(["requested"]);
    expect(slack.received).toHaveLength(1);
    expect(slack.received[0]!.body.text).toBe("Access requested: alice → prod-db · read-only");
    expect(JSON.stringify(slack.received[0]!.body)).toContain("Approvers: @acme/dba, @acme/security");

    // Redelivered: the state says it was announced; nothing is sent, nothing is written.
    const again = request({ pr: prFields({ labels: ["jit:pending"] }), comments: [{ id: 55, login: "", byApp: true, body: capture.body! }] });
    await opened(again, () => {});
    expect(slack.received).toHaveLength(1);
  });

  it("is not sent again when another replica announced it since this one read the state", async () => {
    const before = embedState("waiting", { v: 1, status: "PENDING" });
    const sc = request({ pr: prFields({ labels: ["jit:pending"] }), comments: [{ id: 55, login: "", byApp: true, body: before }] });
    const capture = await opened(sc, (api, c) => {
      mockFreshRecord(api, embedState("waiting", { v: 1, status: "PENDING", notified: ["requested"] })); // the record, read again
      api.patch(`${R}/issues/comments/55`, (b: any) => ((c.body = b.body), true)).reply(200, {});
    });
    expect(slack.received).toHaveLength(0);
    expect(readState(capture.body!)!.notified).toEqual(["requested"]);
  });

  it("a destination that keeps failing is reported on the PR once", async () => {
    slack.script.push(404);
    await opened(request(), (api) => {
      api.post(`${R}/issues/7/comments`).reply(201, { id: 55 }); // the status comment
      api.get(`${R}/issues/7/comments`).query({ per_page: 100 }).reply(200, [{ id: 55, body: "status", performed_via_github_app: { id: 123 } }]);
      api.post(`${R}/issues/7/comments`, (b: any) => b.body.startsWith("<!-- jit-access:notify-failed Slack (JIT_SLACK_URL) -->\n⚠️ jit-access could not deliver the \"requested\" notification to Slack (JIT_SLACK_URL): HTTP 404.")).reply(201, { id: 56 });
    });
  });
});

describe("the expiry warning with a destination", () => {
  it("records the warning and its notification in one write, reads the comment once, and sends once", async () => {
    const clock = new Date("2026-11-29T14:50:00Z");
    const { probot } = await startAppWithScheduler(fixedClock(clock), {}, notifier);
    const state = {
      v: 1 as const, status: "APPROVED" as const, path: "grants/prod-admins/alice-1.yaml", blob: "b".repeat(40),
      grant: { requester: "alice", resource: "prod-admins", role: "member", duration: "2h", reason: "Investigate INC-4211" },
      approvers: ["pat"], standing: [], applied_at: "2026-11-29T13:00:00.000Z", starts_at: "2026-11-29T13:00:00.000Z",
      expires_at: "2026-11-29T15:00:00.000Z", warn_at: "2026-11-29T14:50:00.000Z", notified: ["requested", "granted"],
      target: { provider: "github-team", config: { org: "acme", team: "prod-admins" }, grant: {} },
    };
    const body = embedState("granted", state);
    const sc: Scenario = {
      pr: prFields({ state: "closed", merged: true, labels: ["jit:approved"] }),
      files: [{ filename: "grants/prod-admins/alice-1.yaml", status: "added", content: grantYaml({ resource: "prod-admins", role: "member" }) }],
      policy: NOTIFYING_POLICY,
      comments: [{ id: 55, login: "", byApp: true, body }],
    };
    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc, "through-comments");
    mockGrantOnMain(api, "grants/prod-admins/alice-1.yaml", "still there");
    mockFreshRecord(api, body); // once: no other replica warned
    let written: any;
    const records: string[] = [];
    mockRecordWrites(api, 1, records);
    api.patch(`${R}/issues/comments/55`, (b) => ((written = b), true)).reply(200, {});
    api.post(`${R}/issues/7/comments`, (b: any) => b.body.startsWith("⏰ @alice")).reply(201, { id: 77 });
    await deliver(probot, "pull_request", pullRequestEvent("closed", sc.pr));
    await notifier.settled();
    api.done();
    expect(records).toEqual([written.body]);
    expect(readState(written.body)).toMatchObject({ warned_at: "2026-11-29T14:50:00.000Z", notified: ["requested", "granted", "expiring"] });
    expect(slack.received.map((r) => r.body.text)).toEqual(["Access expiring: alice → prod-admins · member"]);
  });
});

describe("announcements across pushes", () => {
  it("a new head is not announced as a new request again, but a break-glass request is announced even if the comment was edited to say it had been", async () => {
    const edited = embedState("waiting", { v: 1, status: "PENDING", notified: ["requested", "break-glass"] });
    const emergency = grantYaml({ duration: "30m", emergency: true });
    const policy = `${NOTIFYING_POLICY}`;
    const sc = request({
      pr: prFields({ headSha: "9".repeat(40), labels: ["jit:pending"] }),
      files: [{ filename: "grants/prod-db/alice-1.yaml", status: "added", content: emergency }],
      policy,
      comments: [{ id: 55, login: "", byApp: true, body: edited }],
      checkRuns: [], // the new head has no record yet
    });
    const capture = await opened(sc, (api, c) => api.patch(`${R}/issues/comments/55`, (b: any) => ((c.body = b.body), true)).reply(200, {}));
    expect(slack.received.map((r) => r.body.text)).toEqual(["🚨 BREAK-GLASS: alice → prod-db · read-only"]); // and no second "Access requested"
    expect(readState(capture.body!)!.notified).toEqual(["requested", "break-glass"]);
  });
});
