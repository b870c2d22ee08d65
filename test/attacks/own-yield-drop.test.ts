import { afterEach, describe, expect, it } from "@jest/globals";
import { Arena, REF } from "./harness.js";

/**
 * Commit 32e6089 marks every `pull_request` webhook's job as one that "yields" (src/app.ts passes
 * an `alreadySeen` check for every action, so Scheduler.enqueue sets `yields: true`), not only the
 * app's own `opened` and merged `closed` that alreadySeen can ever skip. A yielding job never
 * replaces the job queued behind the running one (handlers/queue.ts). When that queued job is
 * itself the app's own webhook, it then skips its evaluation, and the person's webhook that
 * yielded to it is lost with it.
 *
 * The natural moment: the turn that merges a request is still running (applying, drawing) when
 * GitHub sends the merge's `closed` webhook, which is queued behind it; a person's change to the
 * request arriving before that turn ends is a webhook of its own, which yields to the merge's and
 * is never evaluated. Here the change is mallory removing the `jit:approved` label (the app
 * promises to restore its labels at once and to alert security: the labeled handler in app.ts).
 * The per-minute sweep finds the PR again (its updated_at moved) and restores it a minute later;
 * until then the webhook is simply lost, against the queue's rule that such a job "never replaces
 * one queued for another reason" (here the queued one is the app's own, and skips).
 */
let arena: Arena;
afterEach(() => arena?.stop());

describe("own webhooks: a person's pull_request webhook yields to the app's own, which then skips", () => {
  it("mallory's label removal during the merge turn is neither restored nor alerted", async () => {
    arena = await Arena.start();
    const g = await arena.open("alice");
    let merged = false;
    let acted = false;
    arena.fake.onRequest(async (r) => {
      if (r.method === "PUT" && r.path === `/repos/acme/access/pulls/${g.number}/merge`) merged = true;
      // The merge turn's last write: its status comment, after the apply and the labels.
      if (!merged || acted || !(r.path.startsWith(`/repos/acme/access/issues/comments/`) || r.path === `/repos/acme/access/issues/${g.number}/comments`)) return;
      acted = true;
      // GitHub sends the merge's `closed` webhook while the turn still runs: queued behind it.
      for (const d of arena.take((d) => d.name === "pull_request" && d.payload.action === "closed")) await arena.deliver(d);
      // mallory removes the status label the turn has just drawn; her webhook arrives at once.
      await arena.as("mallory").rest.issues.removeLabel({ ...REF, issue_number: g.number, name: "jit:approved" });
      for (const d of arena.take((d) => d.name === "pull_request" && d.payload.action === "unlabeled")) await arena.deliver(d);
    });
    await arena.approve(g.number);
    expect(acted).toBe(true);
    expect(arena.pull(g.number).merged).toBe(true);
    expect(arena.isMember("alice")).toBe(true);
    // Her webhook was delivered and the app settled: the label should be back, and security told.
    expect(arena.pull(g.number).labels).toContain("jit:approved");
    expect(arena.errors.some((e) => e.includes("tamper") && e.includes("labels"))).toBe(true);
  });
});
