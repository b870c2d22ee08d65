import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { FakeGitHub } from "../../testkit/fake-github.js";
import { blockAction, signedInteraction } from "../../testkit/fake-slack.js";
import { openRequest } from "../../testkit/people.js";
import { completeLink, SIGNING_SECRET, SLACK_CHANNEL, startSlackHarness, type SlackHarness, slackPolicy } from "../../testkit/slack-app.js";
import { slackPerson } from "../../src/slack/links.js";
import { redisAvailability, RedisServer } from "../helpers/redis.js";

/**
 * With REDIS_URL the Slack state is shared by replicas: a link made through one is used by the
 * other, a click replayed to the other replica is not carried out twice, and Redis holds tokens
 * only sealed. A real redis-server on a loopback port.
 */
const availability = redisAvailability();
const describeRedis = "bin" in availability ? describe : describe.skip;
const POLICY = slackPolicy();

describeRedis("the Slack state in Redis, shared by two replicas", () => {
  let redis: RedisServer;
  const harnesses: SlackHarness[] = [];
  beforeAll(async () => {
    redis = await RedisServer.start((availability as { bin: string }).bin, { password: "redis-password-never-shown" });
  });
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.stop();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("a link made on one replica works on the other; a replay to the other replica changes nothing; tokens are sealed", async () => {
    const fake = new FakeGitHub({ appId: 79 });
    fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": "* @acme/platform\n" }, { writers: ["alice", "bob"] });
    fake.addMember("@acme/platform", "bob");
    const key = randomBytes(32);
    const one = await startSlackHarness(fake, { redisUrl: redis.url, settings: { key } });
    harnesses.push(one);
    const two = await startSlackHarness(fake, { redisUrl: redis.url, settings: { key } });
    harnesses.push(two);
    const number = (await openRequest(fake.as("alice"), { owner: "acme", repo: "access" }, { branch: "request-alice", path: "grants/prod-admins/alice.yaml", content: "requester: alice\nresource: prod-admins\nrole: member\nduration: 1h\nreason: \"Investigate INC-4211\"\n" }))!;
    await one.flush();

    // Linked through replica one.
    const state = await one.slackApp.links.newState(slackPerson("T0JIT", "U0BOB"));
    expect((await completeLink(one.base, fake.authorize("bob"), state)).confirmed?.status).toBe(200);

    // The click reaches replica two: it knows the message and bob's link.
    const actions = one.slack.only(SLACK_CHANNEL).blocks.find((b) => b.type === "actions") as { elements: { action_id: string; value?: string }[] };
    const value = actions.elements.find((e) => e.action_id === "jit_approve")!.value!;
    const click = signedInteraction(SIGNING_SECRET, blockAction({ user: "U0BOB", channel: SLACK_CHANNEL, actionId: "jit_approve", value, trigger: "trigger-redis" }), Math.floor(Date.now() / 1000));
    expect((await two.post(click.body, click.headers)).status).toBe(200);
    await two.slackApp.routes.settled();
    expect(fake.pull("acme/access", number).reviews.map((r) => [r.login, r.state])).toEqual([["bob", "APPROVED"]]);

    // The same signed request replayed to replica one: acknowledged, not carried out.
    expect((await one.post(click.body, click.headers)).status).toBe(200);
    await one.slackApp.routes.settled();
    expect(fake.pull("acme/access", number).reviews).toHaveLength(1);

    // What Redis holds: the message entry, bob's sealed link, replay marks — no token in the clear.
    const client = new Redis(redis.url);
    try {
      const keys = await client.keys("jit:slack:*");
      expect(keys.some((k) => k.startsWith("jit:slack:msg:repo:"))).toBe(true);
      expect(keys).toContain("jit:slack:link:T0JIT:U0BOB");
      const values = await Promise.all(keys.map((k) => client.get(k)));
      for (const token of fake.userTokens.get("bob")!) expect(values.join("\n")).not.toContain(token);
      expect(values.join("\n")).not.toContain("ghr_");
    } finally {
      client.disconnect();
    }
  });
});
