import { describe, expect, it } from "@jest/globals";
import { FakeGitHub } from "../testkit/fake-github.js";
import { accessRepository, seedLiveGrant } from "../testkit/live-grants.js";
import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import type { Provider } from "../src/providers/types.js";
import { Scheduler } from "../src/scheduler/scheduler.js";
import { fixedClock } from "./helpers/app.js";

/**
 * The scheduler reads a due grant's snapshot a little before its moment, then waits for it. While
 * it waits, its timer must not keep firing: found by the lifecycle property test ("the app did not
 * settle": the timer re-armed itself at 0 ms, over and over, for the whole lead — a busy loop).
 */
const quiet = { info() {}, warn() {}, error() {} };

describe("the scheduler while a due grant waits for its moment", () => {
  it("sets no new timers until the moment comes, then revokes at it", async () => {
    resetLiveGrantCaches();
    const clock = fixedClock(new Date("2026-11-29T14:59:55Z"));
    const fake = new FakeGitHub({ appId: 1, now: () => clock.now() });
    accessRepository(fake, ["alice"]);
    await seedLiveGrant(fake, "alice", { appliedAt: new Date("2026-11-29T13:00:00Z"), expiresAt: new Date("2026-11-29T15:00:00Z") });
    const revokedAt: Date[] = [];
    const provider: Provider = { units: (t) => [t.requester], held: async () => [], apply: async () => {}, revoke: async () => void revokedAt.push(clock.now()), describe: () => "" };
    const scheduler = new Scheduler({ list: async () => [{ id: 4242, account: { login: "acme", type: "Organization" } }], client: async () => fake.client() }, { appId: 1, now: () => clock.now(), providers: () => provider }, clock, quiet);

    const rebuilt = scheduler.rebuild(); // finds the grant due in 5 s: reads it now, then waits
    let fired = 0;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 2));
      const due = clock.timers.filter((t) => t.at <= clock.now().getTime());
      for (const t of due) {
        clock.timers.splice(clock.timers.indexOf(t), 1);
        t.fn();
        fired++;
      }
    }
    expect(fired).toBeLessThanOrEqual(1); // at most the one that started the run; none while it waits
    expect(revokedAt).toEqual([]);

    clock.set(new Date("2026-11-29T15:00:00Z"));
    for (const t of clock.timers.splice(0)) t.fn();
    await rebuilt;
    expect(revokedAt).toEqual([new Date("2026-11-29T15:00:00Z")]);
    scheduler.stop();
  });

  it("arms its timer for the next grant while an earlier one's run is still busy", async () => {
    // A run lasts until its grant's moment and its bookkeeping (paced display writes): a grant due
    // meanwhile must be read ahead and revoked at its own moment, not once that run has finished.
    resetLiveGrantCaches();
    const clock = fixedClock(new Date("2026-11-29T14:59:40Z"));
    const fake = new FakeGitHub({ appId: 1, now: () => clock.now() });
    accessRepository(fake, ["alice", "bob"]);
    await seedLiveGrant(fake, "alice", { appliedAt: new Date("2026-11-29T13:00:00Z"), expiresAt: new Date("2026-11-29T15:00:00Z") });
    await seedLiveGrant(fake, "bob", { appliedAt: new Date("2026-11-29T13:00:00Z"), expiresAt: new Date("2026-11-29T15:00:30Z") });
    const revoked: { who: string; at: Date }[] = [];
    let unblockAlice!: () => void;
    const aliceHeld = new Promise<void>((resolve) => (unblockAlice = resolve));
    const provider: Provider = {
      units: (t) => [t.requester],
      held: async () => [],
      apply: async () => {},
      revoke: async (t) => {
        revoked.push({ who: t.requester, at: clock.now() });
        if (t.requester === "alice") await aliceHeld; // her run stays busy
      },
      describe: () => "",
    };
    const scheduler = new Scheduler({ list: async () => [{ id: 4242, account: { login: "acme", type: "Organization" } }], client: async () => fake.client() }, { appId: 1, now: () => clock.now(), providers: () => provider }, clock, quiet);
    /** Moves the clock to `at` and fires what is due there, letting the work it starts run. */
    const advance = async (at: string) => {
      clock.set(new Date(at));
      for (let i = 0; i < 40; i++) {
        await new Promise((r) => setTimeout(r, 2));
        for (const t of clock.timers.filter((t) => t.at <= clock.now().getTime())) {
          clock.timers.splice(clock.timers.indexOf(t), 1);
          t.fn();
        }
      }
    };

    await scheduler.rebuild(); // nothing due within the lead yet: the timer is armed for alice's
    await advance("2026-11-29T14:59:50Z"); // the timer fires: alice's run reads, then waits for her moment
    await advance("2026-11-29T15:00:00Z");
    expect(revoked.map((r) => r.who)).toEqual(["alice"]);
    await advance("2026-11-29T15:00:20Z"); // bob's lead: his snapshot is read ahead
    await advance("2026-11-29T15:00:30Z");
    expect(revoked).toEqual([
      { who: "alice", at: new Date("2026-11-29T15:00:00Z") },
      { who: "bob", at: new Date("2026-11-29T15:00:30Z") },
    ]);
    unblockAlice();
    await scheduler.settled();
    scheduler.stop();
  });
});
