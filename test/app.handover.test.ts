import { beforeEach, describe, expect, it } from "@jest/globals";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { evaluatePullRequest } from "../src/handlers/evaluate.js";
import { HANDOVER_MARKER } from "../src/present/messages.js";
import type { Provider } from "../src/providers/types.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, ref } from "../testkit/live-grants.js";
import { openRequest } from "../testkit/people.js";

/**
 * A provider whose access is handed to the person (the ssh provider's certificate) returns it from
 * apply; the app posts it as a reply on the request PR, through the whole evaluation, once.
 */
const NOW = new Date("2026-11-29T13:00:00Z");
const quiet = { info() {}, warn() {}, error() {} };
const CERT = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t jit-access";

beforeEach(() => resetLiveGrantCaches());

function handingOver(content: string): Provider & { applies: number } {
  const p = {
    applies: 0,
    units: () => ["cert"],
    held: async () => [],
    apply: async () => {
      p.applies++;
      return { handover: { summary: "your certificate, valid for the window", content } };
    },
    revoke: async () => {},
    describe: () => "a certificate",
  };
  return p;
}

async function approvedRequest(fake: FakeGitHub): Promise<number> {
  accessRepository(fake, ["alice", "bob"]);
  fake.addMember("acme/platform", "bob");
  const number = (await openRequest(fake.as("alice"), ref, { branch: "req", path: "grants/prod-admins/alice-1.yaml", content: "requester: alice\nresource: prod-admins\nrole: member\nduration: 2h\nreason: \"Investigate INC-4211\"\n" }))!;
  await fake.as("bob").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
  return number;
}

describe("an apply's handover", () => {
  it("is posted as a reply on the request PR once applied, and not again on later evaluations", async () => {
    const fake = new FakeGitHub({ appId: 1, now: () => NOW });
    const number = await approvedRequest(fake);
    const provider = handingOver(CERT);
    const evaluate = () => evaluatePullRequest(fake.client(), { ...ref, number }, { appId: 1, now: () => NOW, providers: () => provider }, quiet);
    for (let i = 0; i < 3; i++) await evaluate();
    const replies = fake.pull("acme/access", number).comments.filter((c) => c.appId === 1 && c.body.startsWith(HANDOVER_MARKER));
    expect(provider.applies).toBe(1);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain(`\n\`\`\`text\n${CERT}\n\`\`\``);
    expect(replies[0]!.body).toContain("@alice your certificate");
  });

  it("is never lost: a reply that fails leaves the grant applying, and the next evaluation applies and replies again", async () => {
    const fake = new FakeGitHub({ appId: 1, now: () => NOW });
    const number = await approvedRequest(fake);
    const provider = handingOver(CERT);
    let failures = 1;
    fake.onRequest((r) => {
      if (r.method === "POST" && r.path.endsWith(`/issues/${number}/comments`) && String((r.body as { body?: string }).body).startsWith(HANDOVER_MARKER) && failures-- > 0) throw new Error("GitHub is down");
    });
    const evaluate = () => evaluatePullRequest(fake.client(), { ...ref, number }, { appId: 1, now: () => NOW, providers: () => provider }, quiet);
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) outcomes.push(await evaluate().then((e) => e.state?.status ?? "none", () => "failed"));
    expect(outcomes).toContain("failed");
    expect(outcomes.at(-1)).toBe("APPROVED");
    expect(provider.applies).toBe(2);
    const replies = fake.pull("acme/access", number).comments.filter((c) => c.body.startsWith(HANDOVER_MARKER));
    expect(replies).toHaveLength(1);
  });

  it("keeps a content's backticks inside its code block", async () => {
    const fake = new FakeGitHub({ appId: 1, now: () => NOW });
    const number = await approvedRequest(fake);
    const evaluate = () => evaluatePullRequest(fake.client(), { ...ref, number }, { appId: 1, now: () => NOW, providers: () => handingOver("a ```` b\n```\n@everyone") }, quiet);
    await evaluate();
    await evaluate();
    const reply = fake.pull("acme/access", number).comments.find((c) => c.body.startsWith(HANDOVER_MARKER))!;
    expect(reply.body).toContain("\n`````text\na ```` b\n```\n@everyone\n`````");
  });
});
