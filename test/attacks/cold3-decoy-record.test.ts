import { afterEach, describe, expect, it } from "@jest/globals";
import { openRequest } from "../../testkit/people.js";
import { Arena, REF } from "./harness.js";

/**
 * cold3-decoy-record: the start-up rebuild's cheap path (scheduler/records-found.ts) matches a
 * grant file on the default branch to the FIRST merged, labelled request whose record names the
 * same path and blob, and a matched file is never looked up through its own history. A grant file's
 * blob is its content, so the requester's earlier grant at the same path with the same content
 * (approved, merged, ended) has a record naming exactly the live file. While the app is down (a
 * deploy, a crash), she moves `jit:approved` from her live request to the ended one: the ended
 * request's record matches the live file (status REVOKED: nothing to schedule), the live request
 * is no candidate (no label) and is no longer "unmatched", so neither the cheap path nor the
 * per-file fallback indexes it; rebuildLabelled only sees the ended request. The live grant is
 * never revoked.
 */
let arena: Arena;
afterEach(() => arena?.stop());

const gh = (login: string) => arena.as(login).rest.issues;

/** The app is down for `minutes` (longer than the sweep's search lag): what GitHub sends meanwhile is lost. */
async function outage(minutes: number, meanwhile: () => Promise<void>): Promise<void> {
  arena.app.scheduler.stop();
  await meanwhile();
  arena.take(() => true);
  arena.clock.set(arena.clock.now() + minutes * 60_000);
  arena.take(() => true);
  await arena.boot();
}

async function endedThenAgain(): Promise<{ ended: number; live: number; path: string }> {
  // The first grant: approved, applied, ended early by the requester, its file reverted off main.
  const first = await arena.liveGrant("alice", { name: "alice-oncall", minutes: 60 });
  await arena.as("alice").rest.issues.createComment({ ...REF, issue_number: first.number, body: "/jit revoke done already" });
  await arena.deliverAll();
  await arena.advanceSweeping(3);
  expect(arena.isMember("alice")).toBe(false);
  expect(arena.onMain(first.path)).toBe(false);
  expect(arena.record(first.number)?.path).toBe(first.path);
  // The same request again, byte for byte: same path, same blob.
  const number = await openRequest(arena.as("alice"), REF, { branch: "request-alice-oncall-again", path: first.path, content: arena.grantYaml("alice", { minutes: 60 }) });
  await arena.deliverAll();
  await arena.approve(number!);
  const second = { number: number!, path: first.path };
  expect(arena.isMember("alice")).toBe(true);
  expect(arena.record(second.number)?.blob).toBe(arena.record(first.number)?.blob);
  await arena.advanceSweeping(10); // no longer among the PRs updated lately
  return { ended: first.number, live: second.number, path: second.path };
}

describe("cold3: a decoy record hides a live grant from the start-up rebuild", () => {
  it("baseline (held): the live request's label removed during an outage — the per-file lookup still finds it", async () => {
    arena = await Arena.start();
    const { live } = await endedThenAgain();
    await outage(10, async () => {
      await gh("alice").removeLabel({ ...REF, issue_number: live, name: "jit:approved" });
    });
    await arena.advanceSweeping(60);
    expect(arena.isMember("alice")).toBe(false);
  });

  it("the label moved to her ended request with the same file: the live grant is never revoked", async () => {
    arena = await Arena.start();
    const { ended, live } = await endedThenAgain();
    await outage(10, async () => {
      await gh("alice").removeLabel({ ...REF, issue_number: live, name: "jit:approved" });
      await gh("alice").addLabels({ ...REF, issue_number: ended, labels: ["jit:approved"] });
    });
    await arena.advanceSweeping(60);
    expect(arena.isMember("alice")).toBe(false);
    expect(arena.record(live)?.status).not.toBe("APPROVED");
  });
});
