import { afterEach, describe, expect, it } from "@jest/globals";
import { FakeGitHub } from "../../testkit/fake-github.js";
import { blockAction, signedInteraction } from "../../testkit/fake-slack.js";
import { openRequest } from "../../testkit/people.js";
import { SIGNING_SECRET, SLACK_CHANNEL, startSlackHarness, type SlackHarness, slackPolicy } from "../../testkit/slack-app.js";
import { fixedClock } from "../helpers/app.js";

/**
 * cold3-slack-link-forward: the account link's state is bound to the Slack person who clicked, but
 * nothing binds the BROWSER that completes the GitHub authorization to that Slack person. The
 * requester clicks Approve on her own request (unlinked), gets a link (ephemeral, shown only to
 * her) and forwards it to an approver ("can you have a look?"). The approver opens it and goes
 * through GitHub's authorization (a single redirect when they already authorized the app for their
 * own Slack account): the requester's Slack account is now linked to the approver's GitHub token.
 * Her next click is the approver's GitHub review: her request is approved, merged and applied
 * without any approver deciding it. (docs/threat-model-slack.md only weighs the reverse direction.)
 */
const APP_ID = 77;
const REPO = "acme/access";
const ref = { owner: "acme", repo: "access" };
const POLICY = slackPolicy();
const grant = `requester: alice\nresource: prod-admins\nrole: member\nduration: 1h\nreason: "Investigate INC-4211 stuck deploys"\n`;

let harness: SlackHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

function button(h: SlackHarness, actionId: string): string {
  const actions = h.slack.only(SLACK_CHANNEL).blocks.find((b) => b.type === "actions") as { elements: { action_id: string; value?: string }[] };
  return actions.elements.find((e) => e.action_id === actionId)!.value!;
}

async function click(h: SlackHarness, user: string, actionId: string): Promise<void> {
  const { body, headers } = signedInteraction(SIGNING_SECRET, blockAction({ user, channel: SLACK_CHANNEL, actionId, value: button(h, actionId) }), Math.floor(Date.now() / 1000));
  expect((await h.post(body, headers)).status).toBe(200);
  await h.flush();
}

describe("cold3: a requester's own link, completed by an approver", () => {
  it("does not let the requester approve her own request as the approver", async () => {
    const clock = fixedClock(new Date());
    const fake = new FakeGitHub({ appId: APP_ID, now: () => clock.now() });
    fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": "* @acme/platform\n" }, { writers: ["alice", "bob"] });
    fake.addMember("@acme/platform", "bob");
    const h = (harness = await startSlackHarness(fake, { clock }));
    const number = (await openRequest(fake.as("alice"), ref, { branch: "request-alice", path: "grants/prod-admins/alice.yaml", content: grant }))!;
    await h.flush();

    // alice (Slack U0ALICE) clicks Approve on her own request: she is not linked, she gets a link.
    await click(h, "U0ALICE", "jit_approve");
    const mine = h.slack.ephemerals.at(-1)!;
    expect(mine.user).toBe("U0ALICE");
    const url = mine.text.match(/<([^|>]+)\|link it here>/)![1]!;

    // She forwards it to bob, who opens it in his browser and authorizes on GitHub as himself.
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const state = new URL(url).searchParams.get("state")!;
    const back = await fetch(`${h.base}/slack/oauth/callback?code=${fake.authorize("bob")}&state=${state}`);
    // What bob sees: his GitHub account about to act for alice's Slack account, and a warning. He
    // does not confirm (it is not his Slack account): nothing is linked.
    const seen = await back.text();
    expect(seen).toContain("Alice Requester");
    expect(seen).toContain("If someone sent you this link, stop here");
    expect(await h.slackApp.links.get("T0JIT:U0ALICE")).toBeUndefined();

    // alice clicks Approve again.
    await click(h, "U0ALICE", "jit_approve");
    const pr = fake.pull(REPO, number);
    expect(pr.reviews.map((r) => r.login)).toEqual([]);
    expect(pr.merged).toBe(false);
    expect(h.memory.applies).toHaveLength(0);
  });
});
