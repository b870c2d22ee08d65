import { afterEach, expect, it } from "@jest/globals";
import { FakeGitHub } from "../../testkit/fake-github.js";
import { blockAction, signedInteraction } from "../../testkit/fake-slack.js";
import { openRequest } from "../../testkit/people.js";
import { completeLink, SIGNING_SECRET, SLACK_CHANNEL, startSlackHarness, type SlackHarness, slackPolicy } from "../../testkit/slack-app.js";
import { slackPerson } from "../../src/slack/links.js";
import { fixedClock } from "../helpers/app.js";

/** The request's one Slack message follows it from request to end, updated in place. */
const ref = { owner: "acme", repo: "access" };
const POLICY = slackPolicy("      member: { max_duration: 8h, expiry_warning: 10m }");

let harness: SlackHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

it("a message deleted in Slack is posted again at the next change while the request still waits", async () => {
  const fake = new FakeGitHub({ appId: 80 });
  fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": "* @acme/platform\n" }, { writers: ["alice", "bob"] });
  fake.addMember("@acme/platform", "bob");
  const h = (harness = await startSlackHarness(fake));
  const alice = fake.as("alice");
  const number = (await openRequest(alice, ref, { branch: "request-alice", path: "grants/prod-admins/alice.yaml", content: "requester: alice\nresource: prod-admins\nrole: member\nduration: 1h\nreason: \"Investigate INC-4211\"\n" }))!;
  await h.flush();
  const first = h.slack.only(SLACK_CHANNEL);
  h.slack.messages.delete(first.ts); // a channel admin deletes it
  // alice edits her request: the message should show the new head, and there is none to update.
  const { data: file } = await alice.rest.repos.getContent({ ...ref, path: "grants/prod-admins/alice.yaml", ref: "request-alice" });
  await alice.rest.repos.createOrUpdateFileContents({ ...ref, path: "grants/prod-admins/alice.yaml", branch: "request-alice", message: "reason", content: Buffer.from("requester: alice\nresource: prod-admins\nrole: member\nduration: 1h\nreason: \"Investigate INC-4211 and INC-4212\"\n").toString("base64"), sha: (file as { sha: string }).sha });
  await h.flush();
  expect(h.slack.refused).toEqual([{ method: "chat.update", error: "message_not_found" }]);
  const second = h.slack.only(SLACK_CHANNEL);
  expect(second.ts).not.toBe(first.ts);
  expect(JSON.stringify(second.blocks)).toContain(fake.pull("acme/access", number).headSha.slice(0, 7));
});

it("one message per request, updated at every change (approved by whom, merged and applied, expiring, ended); the requester hears each by direct message", async () => {
  const clock = fixedClock(new Date());
  const fake = new FakeGitHub({ appId: 78, now: () => clock.now() });
  fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": "* @acme/platform\n" }, { writers: ["alice", "bob"] });
  fake.addMember("@acme/platform", "bob");
  const h = (harness = await startSlackHarness(fake, { clock }));
  // alice, the requester, has linked her account (she hears back by direct message); bob approves.
  const aliceState = await h.slackApp.links.newState(slackPerson("T0JIT", "U0ALICE"));
  await completeLink(h.base, fake.authorize("alice"), aliceState);
  const dms = () => [...h.slack.messages.values()].filter((m) => m.channel === "U0ALICE").map((m) => m.text);
  const posts = () => h.slack.calls.filter((c) => c.method === "chat.postMessage" && c.args.channel === SLACK_CHANNEL).length;
  const number = (await openRequest(fake.as("alice"), ref, { branch: "request-alice", path: "grants/prod-admins/alice.yaml", content: "requester: alice\nresource: prod-admins\nrole: member\nduration: 1h\nreason: \"Investigate INC-4211\"\n" }))!;
  await h.flush();
  const texts = () => h.slack.only(SLACK_CHANNEL).text;
  expect(texts()).toContain("⏳ Waiting for @acme/platform");
  expect([posts(), h.slack.count("chat.update"), dms()]).toEqual([1, 0, []]);

  // An evaluation that changes nothing the message shows sends nothing (a label put back, a redelivery).
  await h.app.scheduler.enqueue(fake.client(), 4242, { ...ref, number });
  await h.flush();
  expect(h.slack.count("chat.update")).toBe(0);

  // bob approves from Slack: his review, the merge, the apply — the same message each time.
  const state = await h.slackApp.links.newState(slackPerson("T0JIT", "U0BOB"));
  await completeLink(h.base, fake.authorize("bob"), state);
  const actions = h.slack.only(SLACK_CHANNEL).blocks.find((b) => b.type === "actions") as { elements: { action_id: string; value?: string }[] };
  const value = actions.elements.find((e) => e.action_id === "jit_approve")!.value!;
  const { body, headers } = signedInteraction(SIGNING_SECRET, blockAction({ user: "U0BOB", channel: SLACK_CHANNEL, actionId: "jit_approve", value }), Math.floor(Date.now() / 1000));
  await h.post(body, headers);
  await h.flush();
  expect(fake.pull("acme/access", number).merged).toBe(true);
  expect(texts()).toMatch(/^Access request #\d+: alice → prod-admins · member — 🟢 Applied until .* \(approved by bob\)$/);
  const afterApply = h.slack.count("chat.update");
  expect(dms()).toEqual([expect.stringMatching(/^✅ your request #\d+ \(prod-admins · member, <[^|]+\|acme\/access>\) was approved by bob\.\n🟢 Your access is applied until /)]);
  expect(afterApply).toBeGreaterThanOrEqual(1);

  // Ten minutes before the end: the warning shows in the message.
  clock.set(new Date(clock.now().getTime() + 51 * 60_000));
  await h.app.scheduler.runDue();
  await h.flush();
  expect(texts()).toContain("⌛ Expiring soon");
  const afterWarning = h.slack.count("chat.update");
  expect(dms().at(-1)).toMatch(/^⌛ Your access ends at .*`jit extend \d+ --by 1h/);
  expect(afterWarning).toBeGreaterThan(afterApply);

  // The end: revoked at the target, and said in the same message.
  clock.set(new Date(clock.now().getTime() + 10 * 60_000));
  await h.app.scheduler.runDue();
  await h.flush();
  expect(h.memory.revokes).toHaveLength(1);
  expect(texts()).toContain("⏹️ Ended");
  expect(h.slack.count("chat.update")).toBeGreaterThan(afterWarning);

  // Through it all: one message, never a second one; no method Slack refused.
  expect(dms()).toHaveLength(3);
  expect(dms().at(-1)).toMatch(/^⏹️ Your access from request #\d+ ended /);
  expect(posts()).toBe(1);
  expect([...h.slack.messages.values()].filter((m) => m.channel === SLACK_CHANNEL)).toHaveLength(1);
  expect(h.slack.refused).toEqual([]);
  expect(h.slack.only(SLACK_CHANNEL).updates).toBe(h.slack.count("chat.update"));
});
