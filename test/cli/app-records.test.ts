import { describe, expect, it } from "@jest/globals";
import { readRecord } from "../../src/cli/record.js";
import { evaluatePullRequest } from "../../src/handlers/evaluate.js";
import { providerFactory } from "../../src/providers/registry.js";
import { FakeGitHub } from "../../testkit/fake-github.js";
import { accessRepository, ref } from "../../testkit/live-grants.js";
import { openRequest } from "../../testkit/people.js";

/**
 * The CLI reads the records the app writes, however the app keys them: by repository id
 * (`repo:<id>#<number>`), and by name for records written before that. A run keyed to another
 * repository's id is not this request's record.
 */
const quiet = { info() {}, warn() {}, error() {} };
const content = `requester: alice\nresource: prod-admins\nrole: member\nduration: 2h\nreason: "Investigate INC-4211 on the primary database"\n`;

async function world() {
  const fake = new FakeGitHub(1);
  accessRepository(fake, ["alice", "carol"]);
  const number = (await openRequest(fake.as("alice"), ref, { branch: "request-alice", path: "grants/prod-admins/alice.yaml", content }))!;
  await evaluatePullRequest(fake.client(), { ...ref, number }, { appId: 1, now: () => new Date(), providers: providerFactory({}) }, quiet);
  return { fake, number };
}

describe("the CLI reads the app's records", () => {
  it("finds the record the app wrote, keyed by the repository's id", async () => {
    const { fake, number } = await world();
    const repo = fake.repo("acme", "access")!;
    expect(repo.checkRuns.map((r) => r.externalId)).toEqual([`repo:${repo.id}#${number}`]);
    const record = await readRecord(fake.as("carol"), { ...ref, number }, { slug: "jit-access" });
    expect(record?.status).toBe("PENDING");
  });

  it("reads a record keyed by name (written before records were keyed by id), and not one keyed to another repository", async () => {
    const { fake, number } = await world();
    const run = fake.repo("acme", "access")!.checkRuns[0]!;
    run.externalId = `acme/access#${number}`;
    expect((await readRecord(fake.as("carol"), { ...ref, number }, { slug: "jit-access" }))?.status).toBe("PENDING");
    run.externalId = `repo:999999#${number}`;
    expect(await readRecord(fake.as("carol"), { ...ref, number }, { slug: "jit-access" })).toBeUndefined();
  });
});
