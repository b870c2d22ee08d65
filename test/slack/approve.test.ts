import { afterEach, describe, expect, it } from "@jest/globals";
import { FakeGitHub } from "../../testkit/fake-github.js";
import { blockAction, signedInteraction } from "../../testkit/fake-slack.js";
import { openRequest } from "../../testkit/people.js";
import { completeLink, SIGNING_SECRET, SLACK_CHANNEL, startSlackHarness, type SlackHarness, slackPolicy } from "../../testkit/slack-app.js";
import { slackPerson } from "../../src/slack/links.js";
import { fixedClock } from "../helpers/app.js";

/**
 * Issue #20: a click in Slack becomes the clicker's own GitHub review. Signed interaction payloads
 * go to the real endpoint on Probot's HTTP server; GitHub is the stateful in-memory one (reviews,
 * merges and their webhooks), Slack a fake Web API that keeps its messages.
 */
const APP_ID = 77;
const REPO = "acme/access";
const ref = { owner: "acme", repo: "access" };
const POLICY = slackPolicy(`      member: { max_duration: 8h }\n      owner: { max_duration: 1h, approve_in_chat: false }`);
const grant = (role = "member", reason = "Investigate INC-4211 <!channel> & friends") =>
  `requester: alice\nresource: prod-admins\nrole: ${role}\nduration: 1h\nreason: "${reason}"\n`;

let harness: SlackHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

async function world(role = "member") {
  const clock = fixedClock(new Date());
  const fake = new FakeGitHub({ appId: APP_ID, now: () => clock.now() });
  fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": "* @acme/platform\n" }, { writers: ["alice", "bob", "carol"] });
  fake.addMember("@acme/platform", "bob");
  fake.addMember("@acme/platform", "carol");
  harness = await startSlackHarness(fake, { clock });
  const number = (await openRequest(fake.as("alice"), ref, { branch: "request-alice", path: "grants/prod-admins/alice.yaml", content: grant(role) }))!;
  await harness.flush();
  return { fake, h: harness, number, clock };
}

/** The Approve or Reject button of the one request message, as Slack would send its value back. */
function button(h: SlackHarness, actionId: string): string {
  const actions = h.slack.only(SLACK_CHANNEL).blocks.find((b) => b.type === "actions") as { elements: { action_id: string; value?: string }[] };
  const found = actions.elements.find((e) => e.action_id === actionId);
  if (!found?.value) throw new Error(`no ${actionId} button`);
  return found.value;
}

const nowS = () => Math.floor(Date.now() / 1000);
async function click(h: SlackHarness, user: string, actionId: string, value: string, at = nowS()) {
  const { body, headers } = signedInteraction(SIGNING_SECRET, blockAction({ user, channel: SLACK_CHANNEL, actionId, value }), at);
  const response = await h.post(body, headers);
  await h.flush();
  return response;
}

/** bob's Slack account linked to GitHub bob, through GitHub's web flow on the app's own pages. */
async function link(fake: FakeGitHub, h: SlackHarness, slackUser: string, login: string) {
  const state = await h.slackApp.links.newState(slackPerson("T0JIT", slackUser));
  const page = await fetch(`${h.base}/slack/link?state=${state}`);
  expect(page.status).toBe(200);
  const authorize = new URL((await page.text()).match(/href="([^"]+)"/)![1]!.replace(/&amp;/g, "&"));
  expect(authorize.origin + authorize.pathname).toBe("https://github.com/login/oauth/authorize");
  expect(authorize.searchParams.get("state")).toBe(state);
  expect(authorize.searchParams.get("client_id")).toBe(fake.oauthClient.id);
  const back = await completeLink(h.base, fake.authorize(login), state);
  // The page names the GitHub account and the Slack account it is about to act for; nothing is linked before the confirmation.
  expect([back.page.status, back.pageText.includes(`@${login}`), back.pageText.includes(slackUser)]).toEqual([200, true, true]);
  expect([back.confirmed?.status, (await back.confirmed?.text())?.includes(`@${login}`)]).toEqual([200, true]);
}

describe("Slack buttons become the clicker's own GitHub review", () => {
  it("a linked approver's click approves the shown commit as that person; the request is merged and the message follows", async () => {
    const { fake, h, number } = await world();
    const message = h.slack.only(SLACK_CHANNEL);
    expect(message.text).toContain("Waiting for @acme/platform");
    // Untrusted text is escaped for mrkdwn: no mention, no link.
    expect(JSON.stringify(message.blocks)).toContain("INC-4211 &lt;!channel&gt; &amp; friends");
    const shown = fake.pull(REPO, number).headSha;
    expect(JSON.parse(button(h, "jit_approve")).sha).toBe(shown);

    await link(fake, h, "U0BOB", "bob");
    const response = await click(h, "U0BOB", "jit_approve", button(h, "jit_approve"));
    expect(response.status).toBe(200);
    const pr = fake.pull(REPO, number);
    expect(pr.reviews.map((r) => [r.login, r.state, r.commitId])).toEqual([["bob", "APPROVED", shown]]);
    expect(h.slack.ephemerals.at(-1)).toEqual({ channel: SLACK_CHANNEL, user: "U0BOB", text: expect.stringContaining("@bob's GitHub review of commit") });
    // The review counted as any review does: merged, applied; the same message says so.
    expect(pr.merged).toBe(true);
    expect(h.memory.applies).toHaveLength(1);
    expect(h.slack.only(SLACK_CHANNEL).text).toMatch(/Applied until .* \(approved by bob\)/);
    expect(h.slack.count("chat.postMessage")).toBe(1);
  });

  it("a click on a message older than the head changes nothing and says so", async () => {
    const { fake, h, number } = await world();
    await link(fake, h, "U0BOB", "bob");
    const stale = button(h, "jit_approve");
    // alice pushes a new version of her request after the message was drawn… and before bob clicks.
    const alice = fake.as("alice");
    const { data: file } = await alice.rest.repos.getContent({ ...ref, path: "grants/prod-admins/alice.yaml", ref: "request-alice" });
    fake.deliveries.length = 0; // the message is not redrawn before the click
    await alice.rest.repos.createOrUpdateFileContents({ ...ref, path: "grants/prod-admins/alice.yaml", branch: "request-alice", message: "longer", content: Buffer.from(grant("member", "Investigate INC-4211, longer")).toString("base64"), sha: (file as { sha: string }).sha });
    const { body, headers } = signedInteraction(SIGNING_SECRET, blockAction({ user: "U0BOB", channel: SLACK_CHANNEL, actionId: "jit_approve", value: stale }), nowS());
    expect((await h.post(body, headers)).status).toBe(200);
    await h.slackApp.routes.settled();
    expect(fake.pull(REPO, number).reviews).toEqual([]);
    expect(h.slack.ephemerals.at(-1)!.text).toMatch(/^Nothing was approved: this message showed commit `[0-9a-f]{7}` but the request is now at `[0-9a-f]{7}`/);
  });

  it("an unlinked person gets a link to the app's own page, and nothing is reviewed", async () => {
    const { fake, h, number } = await world();
    await click(h, "U0CAROL", "jit_approve", button(h, "jit_approve"));
    expect(fake.pull(REPO, number).reviews).toEqual([]);
    const text = h.slack.ephemerals.at(-1)!;
    expect(text.user).toBe("U0CAROL");
    const url = text.text.match(/<([^|>]+)\|link it here>/)![1]!;
    expect(url.startsWith(`${h.base}/slack/link?state=`)).toBe(true);
    // The link works once: used, it is gone.
    const state = new URL(url).searchParams.get("state")!;
    expect((await fetch(`${h.base}/slack/oauth/callback?code=${fake.authorize("carol")}&state=${state}`)).status).toBe(200);
    expect((await fetch(`${h.base}/slack/oauth/callback?code=${fake.authorize("carol")}&state=${state}`)).status).toBe(400);
    expect((await fetch(url)).status).toBe(400);
  });

  it("the requester approving her own request gets GitHub's refusal, shown to her", async () => {
    const { fake, h, number } = await world();
    await link(fake, h, "U0ALICE", "alice");
    await click(h, "U0ALICE", "jit_approve", button(h, "jit_approve"));
    expect(fake.pull(REPO, number).reviews).toEqual([]);
    expect(h.slack.ephemerals.at(-1)).toEqual({ channel: SLACK_CHANNEL, user: "U0ALICE", text: "GitHub refused the review: Can not approve your own pull request. Nothing was changed." });
  });

  it("a forged signature, or one older than 5 minutes, gets 401 and changes nothing; a replay changes nothing", async () => {
    const { fake, h, number } = await world();
    await link(fake, h, "U0BOB", "bob");
    const payload = blockAction({ user: "U0BOB", channel: SLACK_CHANNEL, actionId: "jit_approve", value: button(h, "jit_approve"), trigger: "trigger-1" });
    const forged = signedInteraction("not-the-secret", payload, nowS());
    expect((await h.post(forged.body, forged.headers)).status).toBe(401);
    const old = signedInteraction(SIGNING_SECRET, payload, nowS() - 301);
    expect((await h.post(old.body, old.headers)).status).toBe(401);
    const tampered = signedInteraction(SIGNING_SECRET, payload, nowS());
    expect((await h.post(tampered.body.replace("U0BOB", "U0EVE"), tampered.headers)).status).toBe(401);
    await h.flush();
    expect(fake.pull(REPO, number).reviews).toEqual([]);
    expect(h.slack.ephemerals).toEqual([]);

    const real = signedInteraction(SIGNING_SECRET, payload, nowS());
    expect((await h.post(real.body, real.headers)).status).toBe(200);
    await h.slackApp.routes.settled();
    expect(fake.pull(REPO, number).reviews).toHaveLength(1);
    // The same request again, and the same interaction signed anew: acknowledged, not carried out.
    expect((await h.post(real.body, real.headers)).status).toBe(200);
    const resigned = signedInteraction(SIGNING_SECRET, payload, nowS() + 1);
    expect((await h.post(resigned.body, resigned.headers)).status).toBe(200);
    await h.slackApp.routes.settled();
    expect(fake.pull(REPO, number).reviews).toHaveLength(1);
    expect(h.slack.ephemerals).toHaveLength(1);
  });

  it("Reject opens a modal; its reason becomes the person's changes-requested review, and the request is rejected", async () => {
    const { fake, h, number } = await world();
    await link(fake, h, "U0BOB", "bob");
    await click(h, "U0BOB", "jit_reject", button(h, "jit_reject"));
    expect(fake.pull(REPO, number).reviews).toEqual([]);
    const modal = h.slack.views.at(-1)!.view as { callback_id: string; private_metadata: string };
    const submission = {
      type: "view_submission",
      user: { id: "U0BOB", team_id: "T0JIT" },
      team: { id: "T0JIT" },
      trigger_id: "trigger-submit",
      view: { id: "V1", callback_id: modal.callback_id, private_metadata: modal.private_metadata, state: { values: { reason: { reason_input: { type: "plain_text_input", value: "Not during the <freeze>" } } } } },
    };
    const { body, headers } = signedInteraction(SIGNING_SECRET, submission, nowS());
    expect((await h.post(body, headers)).status).toBe(200);
    await h.flush();
    expect(fake.pull(REPO, number).reviews.map((r) => [r.login, r.state])).toEqual([["bob", "CHANGES_REQUESTED"]]);
    expect(fake.pull(REPO, number).state).toBe("closed");
    expect(h.slack.only(SLACK_CHANNEL).text).toContain("❌ Rejected");
    expect(JSON.stringify(h.slack.only(SLACK_CHANNEL).blocks)).not.toContain("jit_approve");
    // A button from before the decision, clicked now: refused, and said why.
    const old = JSON.parse(modal.private_metadata) as Record<string, unknown>;
    delete old.c;
    await click(h, "U0BOB", "jit_approve", JSON.stringify(old));
    expect(fake.pull(REPO, number).reviews).toHaveLength(1);
    expect(h.slack.ephemerals.at(-1)!.text).toMatch(/^Nothing was done: the request no longer waits for a decision/);
  });

  it("a role with approve_in_chat: false shows no buttons, and a click on an old one is refused", async () => {
    const { fake, h, number } = await world("owner");
    expect(JSON.stringify(h.slack.only(SLACK_CHANNEL).blocks)).not.toContain("jit_approve");
    await link(fake, h, "U0BOB", "bob");
    const value = JSON.stringify({ k: `repo:${fake.repo("acme", "access")!.id}#${number}`, o: "acme", r: "access", n: number, sha: fake.pull(REPO, number).headSha });
    await click(h, "U0BOB", "jit_approve", value);
    expect(fake.pull(REPO, number).reviews).toEqual([]);
    expect(h.slack.ephemerals.at(-1)!.text).toMatch(/^This request cannot be decided from Slack/);
  });

  it("a revoked GitHub authorization unlinks the person: the next click asks to link again", async () => {
    const { fake, h, number } = await world();
    await link(fake, h, "U0BOB", "bob");
    expect(await h.slackApp.links.get(slackPerson("T0JIT", "U0BOB"))).toMatchObject({ login: "bob" });
    fake.revokeAuthorization("bob");
    await h.flush();
    expect(await h.slackApp.links.get(slackPerson("T0JIT", "U0BOB"))).toBeUndefined();
    await click(h, "U0BOB", "jit_approve", button(h, "jit_approve"));
    expect(fake.pull(REPO, number).reviews).toEqual([]);
    expect(h.slack.ephemerals.at(-1)!.text).toMatch(/^To decide from Slack, link your GitHub account first/);
  });
});
