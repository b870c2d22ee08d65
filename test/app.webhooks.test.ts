import { describe, expect, it } from "@jest/globals";
import { createHmac } from "node:crypto";
import { Probot, ProbotOctokit } from "probot";
import { createApp } from "../src/app.js";
import { providerFactory } from "../src/providers/registry.js";
import { scheduleSweeps } from "../src/scheduler/cron.js";
import { fixedClock } from "./helpers/app.js";
import { githubApi } from "./helpers/github-mock.js";
import { pullRequestEvent } from "./helpers/payloads.js";
import { prFields } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

guardNetwork();
const SECRET = "webhook-secret-for-tests";

describe("forged webhooks", () => {
  it("a delivery whose signature does not match the secret is refused before the app sees it, and changes nothing", async () => {
    const probot = new Probot({ appId: 1, privateKey: "unused", secret: SECRET, logLevel: "fatal", Octokit: ProbotOctokit });
    await probot.load(createApp({ appId: 1, providers: providerFactory({}), sweepSchedule: null, clock: fixedClock(new Date()) }));
    const api = githubApi(); // no request may reach GitHub
    const payload = JSON.stringify(pullRequestEvent("opened", prFields()));
    const forged = `sha256=${createHmac("sha256", "not-the-secret").update(payload).digest("hex")}`;
    await expect(probot.webhooks.verifyAndReceive({ id: "1", name: "pull_request", payload, signature: forged })).rejects.toThrow("signature does not match");
    await expect(probot.webhooks.verifyAndReceive({ id: "2", name: "pull_request", payload, signature: "" })).rejects.toThrow();
    api.done();
  });
});

describe("the sweep's schedule", () => {
  it("node-cron runs the scheduler's sweep on its schedule, and stops when destroyed", async () => {
    let sweeps = 0;
    const scheduler = { sweep: async () => void sweeps++ } as unknown as Parameters<typeof scheduleSweeps>[0];
    const task = scheduleSweeps(scheduler, "* * * * * *", { error() {} }); // every second (node-cron's 6-field form)
    try {
      while (sweeps === 0) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await task.destroy();
    }
    const after = sweeps;
    await new Promise((r) => setTimeout(r, 1_200));
    expect(sweeps).toBe(after); // destroyed: no more sweeps
  });
});
