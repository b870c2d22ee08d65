import { beforeEach, describe, expect, it } from "@jest/globals";
import { Probot } from "probot";
import { createApp } from "../src/app.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, seedLiveGrant } from "../testkit/live-grants.js";
import { parseAccessRepositories } from "../src/config.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { readState } from "../src/lifecycle/codec.js";
import { providerFactory } from "../src/providers/registry.js";
import { fixedClock, privateKey, TestOctokit } from "./helpers/app.js";

/**
 * Fail safe, "Repository renamed or transferred": records are keyed by the repository's id, so a
 * rename leaves them readable; the scheduler's index (by name) is rebuilt on `repository.renamed`,
 * so the grant's revoke still fires at its end; and JIT_ACCESS_REPOSITORIES, naming the old name,
 * keeps the repository by its id (with a warning naming both). Against the in-memory GitHub, which
 * finds a renamed repository under its new name only.
 */
const APP_ID = 1;
const EXPIRES = new Date("2026-11-29T15:00:00Z");

beforeEach(() => resetLiveGrantCaches());

async function start(key: "id" | "legacy") {
  const clock = fixedClock(new Date("2026-11-29T13:00:00Z"));
  const fake = new FakeGitHub({ appId: APP_ID, now: () => clock.now() });
  accessRepository(fake, ["alice"]);
  const number = await seedLiveGrant(fake, "alice", { appliedAt: clock.now(), expiresAt: EXPIRES });
  fake.addMember("acme/prod-admins", "alice"); // what the grant gave
  const run = fake.repo("acme", "access")!.checkRuns.find((r) => r.headSha === fake.pull("acme/access", number).headSha)!;
  expect(run.externalId).toBe(`repo:${fake.repo("acme", "access")!.id}#${number}`);
  if (key === "legacy") run.externalId = `acme/access#${number}`; // written by a version that keyed records by name

  const warnings: string[] = [];
  const errors: string[] = [];
  const text = (a: unknown, b?: unknown) => (typeof a === "string" ? a : String(b ?? ""));
  const log: Record<string, unknown> = { level: "info", trace() {}, debug() {}, info() {}, warn: (a: unknown, b?: unknown) => void warnings.push(text(a, b)), error: (a: unknown, b?: unknown) => void errors.push(text(a, b)), fatal: (a: unknown, b?: unknown) => void errors.push(text(a, b)) };
  log.child = () => log;
  const probot = new Probot({ appId: APP_ID, privateKey, Octokit: TestOctokit, request: { fetch: fake.fetch }, log: log as never });
  const repositories = parseAccessRepositories("acme/access");
  if (!repositories.ok) throw new Error(repositories.error);
  const app = createApp({ appId: APP_ID, clock, providers: providerFactory({}), repositories: repositories.repositories, sweepSchedule: null });
  await probot.load(app);
  await app.scheduler.rebuild(); // as at start-up: the grant is indexed, the repository's id noted
  expect(app.scheduler.index.get(`acme/access#${number}`)?.dueAt).toBe(EXPIRES.getTime());
  return { clock, fake, number, probot, app, warnings, errors, run };
}

describe("a repository renamed while a grant is live", () => {
  it.each(["id", "legacy"] as const)("still revokes the grant at its end and reads its record (a record keyed by %s)", async (key) => {
    const w = await start(key);
    w.fake.deliveries.length = 0;
    w.fake.reset();
    w.fake.rename("acme/access", "acme/access-v2");
    const [renamed] = w.fake.deliveries;
    expect(renamed).toMatchObject({ name: "repository", action: "renamed", payload: { changes: { repository: { name: { from: "access" } } } } });
    await w.probot.receive({ id: renamed!.id, name: renamed!.name, payload: renamed!.payload } as Parameters<Probot["receive"]>[0]);
    await w.app.queue.idle();

    expect(w.app.scheduler.index.get(`acme/access#${w.number}`)).toBeUndefined();
    expect(w.app.scheduler.index.get(`acme/access-v2#${w.number}`)?.dueAt).toBe(EXPIRES.getTime());
    expect(w.warnings.filter((m) => m.includes("JIT_ACCESS_REPOSITORIES names acme/access, which is now acme/access-v2"))).toHaveLength(1);

    w.clock.set(new Date(EXPIRES.getTime() + 1000));
    await w.app.scheduler.runDue();
    await w.app.queue.idle();
    expect(readState(w.run.output.text)).toMatchObject({ status: "EXECUTED", revoked_at: "2026-11-29T15:00:01.000Z" });
    expect(w.fake.isMember("acme/prod-admins", "alice")).toBe(false);
    expect(w.fake.requests.filter((r) => r.startsWith("DELETE /orgs/acme/teams/prod-admins/memberships/alice"))).toHaveLength(1);
    expect(w.fake.requests.filter((r) => r.includes("/repos/acme/access/"))).toEqual([]); // nothing asked under the old name
    expect(w.errors).toEqual([]);
    w.app.scheduler.stop();
  });
});
