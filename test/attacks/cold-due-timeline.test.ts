import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * cold-7: "a grant due to end is revoked before its timeline (which the requester can inflate) is
 * read" (github/snapshot.ts dueToEnd) holds only when the snapshot is read after expires_at. The
 * scheduler reads a due grant's snapshot `leadMs` (10 s) BEFORE its moment (scheduler.ts runDue →
 * prepareEvaluation), when dueToEnd is still false: the whole timeline is read first, and the
 * revoke waits for it. The requester inflates her PR's timeline with plain comments (they do not
 * even wake the app); every page is one more request, and one more round trip, before her access
 * is taken away.
 */
let arena: Arena;
afterEach(() => arena?.stop());

const COMMENTS = 2000;

describe("cold-7: the timer's revoke of a grant whose PR carries many comments", () => {
  it("no timeline page is read before the membership is deleted", async () => {
    arena = await Arena.start();
    const g = await arena.liveGrant("alice", { minutes: 30 });
    const alice = arena.as("alice");
    for (let i = 0; i < COMMENTS; i++) await alice.rest.issues.createComment({ ...REF, issue_number: g.number, body: `note ${i}` });
    await arena.deliverAll();
    const expiresAt = Date.parse(arena.record(g.number)!.expires_at!);

    await arena.advance(expiresAt - arena.clock.now() - 60_000); // the expiry warning is past
    const before = arena.fake.requests.length;
    await arena.advance(65_000); // the timer alone, no sweep
    expect(arena.isMember("alice")).toBe(false);
    const during = arena.fake.requests.slice(before);
    const deleted = during.findIndex((r) => r.startsWith("DELETE /orgs/acme/teams/prod-admins/memberships/"));
    expect(deleted).toBeGreaterThanOrEqual(0);
    const pagesFirst = during.slice(0, deleted).filter((r) => r.includes("/timeline")).length;
    expect(pagesFirst).toBe(0);
  }, 120_000);
});
