import { FakeGitHub } from "../testkit/fake-github.js";
import { blockAction, signedInteraction } from "../testkit/fake-slack.js";
import { openRequest } from "../testkit/people.js";
import { SIGNING_SECRET, SLACK_CHANNEL, startSlackHarness, slackPolicy } from "../testkit/slack-app.js";
import { slackPerson } from "../src/slack/links.js";
import { fmt, summarize } from "./stats.js";

const POLICY = slackPolicy();

/**
 * A burst of Slack clicks at once: 50 linked approvers click Approve on the same request message
 * within the same instant (real HTTP, signed), GitHub answering each request after `latencyMs`.
 * Slack wants each interaction answered within 3 s (then it shows the clicker an error); the
 * endpoint acknowledges first and submits the review after, so the answer time is what Slack sees
 * and "all reviews submitted" is when the work behind them was done.
 */
export async function benchSlackClicks(clicks = 50, latencyMs = 20): Promise<string[]> {
  const fake = new FakeGitHub({ appId: 91 });
  const approvers = Array.from({ length: clicks }, (_, i) => `approver${i}`);
  fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": "* @acme/platform\n" }, { writers: ["alice", ...approvers] });
  for (const a of approvers) fake.addMember("@acme/platform", a);
  const h = await startSlackHarness(fake);
  try {
    const ref = { owner: "acme", repo: "access" };
    const number = (await openRequest(fake.as("alice"), ref, { branch: "request-alice", path: "grants/prod-admins/alice.yaml", content: "requester: alice\nresource: prod-admins\nrole: member\nduration: 1h\nreason: \"benchmark of Slack clicks\"\n" }))!;
    await h.flush();
    for (const [i, login] of approvers.entries()) {
      const state = await h.slackApp.links.newState(slackPerson("T0JIT", `U${i}`));
      await fetch(`${h.base}/slack/oauth/callback?code=${fake.authorize(login)}&state=${state}`);
    }
    const actions = h.slack.only(SLACK_CHANNEL).blocks.find((b) => b.type === "actions") as { elements: { action_id: string; value?: string }[] };
    const value = actions.elements.find((e) => e.action_id === "jit_approve")!.value!;
    fake.latencyMs = latencyMs;
    const now = Math.floor(Date.now() / 1000);
    const requests = approvers.map((_, i) => signedInteraction(SIGNING_SECRET, blockAction({ user: `U${i}`, channel: SLACK_CHANNEL, actionId: "jit_approve", value, trigger: `bench-${i}` }), now));
    const start = performance.now();
    const answered = await Promise.all(
      requests.map(async ({ body, headers }) => {
        const t0 = performance.now();
        const response = await h.post(body, headers);
        await response.arrayBuffer();
        return { ms: performance.now() - t0, status: response.status };
      }),
    );
    await h.slackApp.routes.settled();
    const done = performance.now() - start;
    const reviews = fake.pull("acme/access", number).reviews.filter((r) => r.state === "APPROVED").length;
    const s = summarize(answered.map((a) => a.ms));
    const within = answered.filter((a) => a.status === 200 && a.ms < 3000).length;
    return [
      `${clicks} clicks at once, GitHub latency ${latencyMs} ms: answered in median ${fmt(s.median, 1)} ms, p99 ${fmt(s.p99, 1)} ms, max ${fmt(s.max, 1)} ms; ${within}/${clicks} within Slack's 3 s`,
      `all ${reviews}/${clicks} reviews submitted as their clickers ${fmt(done, 0)} ms after the burst began`,
    ];
  } finally {
    await h.stop();
  }
}
