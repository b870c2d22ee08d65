import fc from "fast-check";
import { deleteThroughPullRequest, openRequest, push } from "../../testkit/people.js";
import { recordKey } from "../../src/github/record.js";
import { COMMENT_MARKER, embedState, readState } from "../../src/lifecycle/codec.js";
import type { Oracle } from "./oracle.js";
import { PEOPLE, type Person, type RequestSpec, type World } from "./world.js";

/**
 * What can happen to requests, as plain data (printed with a failing seed, shrunk by fast-check).
 * Indexes (`req`, `pick`, `to`) are taken modulo what exists when the step runs.
 */
export type Step =
  | { kind: "open"; req: number }
  | { kind: "deliver"; pick: number; times: number; concurrent: boolean; to: number }
  | { kind: "deliverAll"; reverse: boolean; to: number }
  | { kind: "redeliver"; pick: number; to: number }
  | { kind: "lose"; pick: number }
  | { kind: "advance"; minutes: number }
  | { kind: "review"; req: number; who: Person; approve: boolean }
  /** Both approver groups approve (dana for dba, sam for security): the ordinary way forward. */
  | { kind: "approve"; req: number }
  | { kind: "dismiss"; req: number; pick: number }
  | { kind: "comment"; req: number; who: Person; text: string }
  | { kind: "editIntoCommand"; req: number; pick: number; text: string }
  | { kind: "deleteComment"; req: number; pick: number }
  | { kind: "forgeStatus"; req: number; how: "edit" | "repost"; status: "APPROVED" | "APPLYING" | "PENDING" }
  | { kind: "label"; req: number; add: boolean; name: string }
  | { kind: "close"; req: number; reopen: boolean; who: Person }
  | { kind: "push"; req: number; who: Person }
  | { kind: "personMerge"; req: number; who: Person }
  | { kind: "deleteGrant"; req: number; who: Person }
  | { kind: "forgeCheckRun"; req: number }
  /** Several PRs opened from new branches pointing at a live grant's head commit: look-alikes of a request already applied. */
  | { kind: "flood"; pick: number; who: Person; count: number }
  /** A direct push to the default branch (no PR, so no pull_request event) deleting a live grant's file. */
  | { kind: "pushDelete"; pick: number; who: Person }
  /** Someone edits (text) or deletes (null) another person's `/jit reject` or `/jit revoke` comment, whether or not the app heard it first. */
  | { kind: "tamperCommand"; req: number; pick: number; who: Person; text: string | null }
  | { kind: "renameRepository" }
  /** A requester renames their GitHub login. */
  | { kind: "renameLogin"; who: "alice" | "bob" }
  | { kind: "sweep"; to: number }
  | { kind: "restart" }
  | { kind: "replica" };

const person = fc.constantFrom<Person>(...PEOPLE);
const req = fc.nat(5);
const pick = fc.nat(40);
const to = fc.nat(1);
const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });

export const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  w(3, fc.record({ kind: fc.constant("open" as const), req })),
  w(14, fc.record({ kind: fc.constant("deliver" as const), pick, times: fc.constantFrom(1, 1, 1, 2, 3), concurrent: fc.boolean(), to })),
  w(6, fc.record({ kind: fc.constant("deliverAll" as const), reverse: fc.boolean(), to })),
  w(8, fc.record({ kind: fc.constant("approve" as const), req })),
  w(2, fc.record({ kind: fc.constant("redeliver" as const), pick, to })),
  w(1, fc.record({ kind: fc.constant("lose" as const), pick })),
  w(6, fc.record({ kind: fc.constant("advance" as const), minutes: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 30, max: 180 })) })),
  w(8, fc.record({ kind: fc.constant("review" as const), req, who: fc.constantFrom<Person>("dana", "sam", "dana", "sam", "mallory", "alice"), approve: fc.constantFrom(true, true, true, false) })),
  w(1, fc.record({ kind: fc.constant("dismiss" as const), req, pick })),
  w(4, fc.record({ kind: fc.constant("comment" as const), req, who: person, text: fc.constantFrom("/jit revoke", "/jit revoke no longer needed", "/jit reject not justified", "looks fine") })),
  w(1, fc.record({ kind: fc.constant("editIntoCommand" as const), req, pick, text: fc.constantFrom("/jit revoke", "/jit reject edited") })),
  w(1, fc.record({ kind: fc.constant("deleteComment" as const), req, pick })),
  w(2, fc.record({ kind: fc.constant("forgeStatus" as const), req, how: fc.constantFrom<"edit" | "repost">("edit", "repost"), status: fc.constantFrom<"APPROVED" | "APPLYING" | "PENDING">("APPROVED", "APPLYING", "PENDING") })),
  w(1, fc.record({ kind: fc.constant("label" as const), req, add: fc.boolean(), name: fc.constantFrom("jit:approved", "jit:pending", "jit:expired", "jit:rejected") })),
  w(1, fc.record({ kind: fc.constant("close" as const), req, reopen: fc.boolean(), who: person })),
  w(1, fc.record({ kind: fc.constant("push" as const), req, who: person })),
  w(1, fc.record({ kind: fc.constant("personMerge" as const), req, who: person })),
  w(1, fc.record({ kind: fc.constant("deleteGrant" as const), req, who: person })),
  w(1, fc.record({ kind: fc.constant("forgeCheckRun" as const), req })),
  w(1, fc.record({ kind: fc.constant("flood" as const), pick, who: person, count: fc.integer({ min: 2, max: 4 }) })),
  w(2, fc.record({ kind: fc.constant("pushDelete" as const), pick, who: person })),
  w(2, fc.record({ kind: fc.constant("tamperCommand" as const), req, pick, who: person, text: fc.constantFrom<string | null>(null, null, "looks fine", "/jit revoke", "/jit reject edited") })),
  w(1, fc.record({ kind: fc.constant("renameRepository" as const) })),
  w(1, fc.record({ kind: fc.constant("renameLogin" as const), who: fc.constantFrom<"alice" | "bob">("alice", "bob") })),
  w(2, fc.record({ kind: fc.constant("sweep" as const), to })),
  w(1, fc.record({ kind: fc.constant("restart" as const) })),
  w(1, fc.record({ kind: fc.constant("replica" as const) })),
);

/** Requests: the first two are alice's and share a role (`analytics_read`): overlapping grants of one person for one unit. */
export const requestsArbitrary: fc.Arbitrary<RequestSpec[]> = fc
  .tuple(
    fc.array(
      fc.record({
        requester: fc.constantFrom<"alice" | "bob">("alice", "bob"),
        role: fc.constantFrom<"read-only" | "read-write">("read-only", "read-write"),
        minutes: fc.constantFrom(30, 60, 120, 240),
        startIn: fc.option(fc.integer({ min: 5, max: 90 }), { nil: undefined, freq: 4 }),
        file: fc.nat(1),
      }),
      { minLength: 2, maxLength: 4 },
    ),
  )
  .map(([specs]) => specs.map((s, i) => (i < 2 ? { ...s, requester: "alice" as const, file: i } : s)))
  .map((specs) => specs.map(({ startIn, ...s }) => (startIn === undefined ? s : { ...s, startIn })));

/** GitHub refused (a 4xx): a person's action that cannot happen now, as on GitHub. Anything else is a failure. */
async function refusedIsFine(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === undefined || status < 400 || status >= 500) throw error;
  }
}

export async function runStep(world: World, oracle: Oracle, step: Step, specs: readonly RequestSpec[]): Promise<void> {
  const opened = world.opened.length ? world.opened[step.kind === "open" ? 0 : ("req" in step ? step.req : 0) % world.opened.length]! : undefined;
  const instance = (n: number) => world.instances[n % world.instances.length]!;
  const as = (who: Person) => world.as(who);
  const REF = world.ref;
  switch (step.kind) {
    case "open": {
      const spec = specs[step.req % specs.length]!;
      const index = specs.indexOf(spec);
      if (world.opened.some((r) => r.spec === spec)) return;
      const path = `grants/prod-db/${spec.requester}-${spec.file}.yaml`;
      const branch = `request-${index}`;
      if (world.repo.git.branches.has(branch)) return;
      const number = await openRequest(as(spec.requester), REF, { branch, path, content: world.grantYaml(spec) });
      if (number !== undefined) world.opened.push({ spec, number, path, branch });
      return;
    }
    case "deliver": {
      const d = world.pending.splice(step.pick % Math.max(1, world.pending.length), 1)[0];
      if (!d) return;
      world.delivered.push(d);
      const target = instance(step.to);
      const copies = Array.from({ length: step.times }, () => d);
      if (step.concurrent) await Promise.all(copies.map((x) => target.deliver(x)));
      else for (const x of copies) await target.deliver(x);
      return;
    }
    case "deliverAll": {
      const all = world.pending.splice(0);
      if (step.reverse) all.reverse();
      world.delivered.push(...all);
      for (const d of all) await instance(step.to).deliver(d);
      return;
    }
    case "redeliver": {
      const d = world.delivered[step.pick % Math.max(1, world.delivered.length)];
      if (d) await instance(step.to).deliver(d);
      return;
    }
    case "lose":
      world.pending.splice(step.pick % Math.max(1, world.pending.length), 1);
      return;
    case "advance":
      return advance(world, oracle, step.minutes * 60_000);
    case "sweep":
      return instance(step.to).sweep();
    case "restart":
      return world.restart();
    case "replica":
      if (world.instances.length < 2) (await world.startInstance()).rebuild();
      return;
    case "flood": {
      const grant = pickLive(world, step.pick);
      if (!grant) return;
      const head = world.pull(grant.number).headSha;
      for (let k = 0; k < step.count; k++) {
        const branch = `flood-${world.fake.nextId()}`;
        await as(step.who).rest.git.createRef({ ...REF, ref: `refs/heads/${branch}`, sha: head });
        await refusedIsFine(() => as(step.who).rest.pulls.create({ ...REF, head: branch, base: "main", title: `jit: ${grant.path}` }));
      }
      return;
    }
    case "pushDelete": {
      const grant = pickLive(world, step.pick);
      if (!grant) return;
      const sha = world.repo.git.resolve("main")?.tree.get(grant.path);
      if (!sha) return;
      await as(step.who).rest.repos.deleteFile({ ...REF, path: grant.path, branch: "main", sha, message: `remove ${grant.path}` });
      // As a merged deletion: the file gone from the default branch ends the grant (early is allowed, not required).
      oracle.noteAsk(grant.number);
      return;
    }
    case "renameRepository":
      return world.renameRepository();
    case "renameLogin":
      return world.renameLogin(step.who);
  }
  if (!opened) return;
  const pr = world.pull(opened.number);
  const ref = { ...REF, issue_number: opened.number };
  switch (step.kind) {
    case "review":
      return refusedIsFine(() => as(step.who).rest.pulls.createReview({ ...REF, pull_number: opened.number, event: step.approve ? "APPROVE" : "REQUEST_CHANGES" }));
    case "approve":
      for (const who of ["dana", "sam"] as const) await refusedIsFine(() => as(who).rest.pulls.createReview({ ...REF, pull_number: opened.number, event: "APPROVE" }));
      return;
    case "dismiss": {
      const review = pr.reviews.filter((r) => r.state === "APPROVED" || r.state === "CHANGES_REQUESTED")[step.pick % Math.max(1, pr.reviews.length)];
      if (review) await refusedIsFine(() => as("sam").rest.pulls.dismissReview({ ...REF, pull_number: opened.number, review_id: review.id, message: "dismissed" }));
      return;
    }
    case "comment": {
      await as(step.who).rest.issues.createComment({ ...ref, body: step.text });
      // Entitled to end it early: the requester, an approver (any member of the approver groups, an over-approximation), an admin.
      if (step.text.startsWith("/jit revoke") && [opened.spec.requester, "dana", "sam"].includes(step.who)) oracle.noteAsk(opened.number);
      return;
    }
    case "editIntoCommand": {
      const mine = pr.comments.filter((c) => !c.appId && !c.body.startsWith("/jit"));
      const c = mine[step.pick % Math.max(1, mine.length)];
      if (c) await world.fake.as(c.login).rest.issues.updateComment({ ...REF, comment_id: c.id, body: step.text });
      return;
    }
    case "deleteComment": {
      const c = pr.comments[step.pick % Math.max(1, pr.comments.length)];
      if (c) await as(opened.spec.requester).rest.issues.deleteComment({ ...REF, comment_id: c.id });
      return;
    }
    case "forgeStatus":
      return forgeStatus(world, opened.number, step.how, step.status);
    case "label":
      if (step.add) return void (await as("mallory").rest.issues.addLabels({ ...ref, labels: [step.name] }));
      return refusedIsFine(() => as("mallory").rest.issues.removeLabel({ ...ref, name: step.name }));
    case "close":
      return refusedIsFine(() => as(step.who).rest.pulls.update({ ...REF, pull_number: opened.number, state: step.reopen ? "open" : "closed" }));
    case "push":
      if (pr.state !== "open") return;
      return push(as(step.who), REF, { branch: opened.branch, path: opened.path, content: world.grantYaml(opened.spec, `Changed by ${step.who}: still INC-4211`) });
    case "personMerge":
      return refusedIsFine(() => as(step.who).rest.pulls.merge({ ...REF, pull_number: opened.number, merge_method: "squash" }));
    case "deleteGrant": {
      // Ends whichever merged request's file is on main at that path.
      const onMain = world.opened.filter((r) => r.path === opened.path && world.pull(r.number).merged).sort((a, b) => world.pull(b.number).mergedAt!.localeCompare(world.pull(a.number).mergedAt!))[0];
      const branch = `delete-${world.fake.nextId()}`;
      const number = await deleteThroughPullRequest(as(step.who), REF, { branch, path: opened.path }).catch((error: { status?: number }) => {
        if (error.status === 405) return undefined; // a conflict: nothing merged
        throw error;
      });
      if (number !== undefined && onMain) oracle.noteAsk(onMain.number);
      return;
    }
    case "tamperCommand": {
      // Another person's command, as GitHub shows it now: the app may have heard it already, late, or never.
      const theirs = pr.comments.filter((c) => !c.appId && /^\/jit\s+(reject|revoke)\b/.test(c.body.trim()) && world.personOf(c.login) !== step.who);
      const c = theirs[step.pick % Math.max(1, theirs.length)];
      if (!c) return;
      if (step.text === null) await as(step.who).rest.issues.deleteComment({ ...REF, comment_id: c.id });
      else await as(step.who).rest.issues.updateComment({ ...REF, comment_id: c.id, body: step.text });
      // Nobody entitled asked anything by this: the comment's author did not write the new text.
      return;
    }
    case "forgeCheckRun": {
      // GitHub Actions (another app) writes a `jit-access` check run with a forged record.
      const body = embedState("forged", { v: 1, status: "APPROVED", grant: { requester: opened.spec.requester, resource: "prod-db", role: "read-write", duration: "480m", reason: "forged by a workflow" }, standing: [], applied_at: "2026-11-29T12:00:00.000Z", starts_at: "2026-11-29T12:00:00.000Z", expires_at: "2099-01-01T00:00:00.000Z", target: { provider: "postgres", config: { url_env: "JIT_PROD_DB_URL" }, grant: { roles: ["analytics_read", "app_write"] } } });
      await world.fake.asOtherApp(15368).rest.checks.create({ ...REF, name: "jit-access", external_id: recordKey({ repoId: world.fake.repo(REF.owner, REF.repo)!.id, number: opened.number }), head_sha: pr.headSha, status: "completed", conclusion: "success", output: { title: "forged", summary: "forged", text: body } });
      return;
    }
  }
}

/** The requester edits the app's status comment (or posts a look-alike) to claim a longer, wider grant. */
async function forgeStatus(world: World, number: number, how: "edit" | "repost", status: "APPROVED" | "APPLYING" | "PENDING"): Promise<void> {
  const request = world.requestOf(number)!;
  const pr = world.pull(number);
  const REF = world.ref;
  const ours = pr.comments.find((c) => c.appId === world.fake.app.id && c.body.startsWith(COMMENT_MARKER));
  const current = ours ? readState(ours.body) : undefined;
  const forged = embedState("forged", {
    ...(current ?? { v: 1 as const }),
    v: 1,
    status,
    grant: { requester: request.spec.requester, resource: "prod-db", role: "read-write", duration: "480m", reason: "forged in a comment" },
    standing: ["alice:analytics_read", "alice:app_write", "bob:analytics_read", "bob:app_write"],
    expires_at: "2099-01-01T00:00:00.000Z",
    target: { provider: "postgres", config: { url_env: "JIT_PROD_DB_URL" }, grant: { roles: ["analytics_read", "app_write"] } },
  });
  const gh = world.as(request.spec.requester);
  if (how === "edit" && ours) await gh.rest.issues.updateComment({ ...REF, comment_id: ours.id, body: forged });
  else await gh.rest.issues.createComment({ ...REF, issue_number: number, body: forged });
}

/**
 * A live grant (applied at the target and not revoked), the pick-th of them; none live, none.
 * Grant ids name the PR by number after the \`#\`, whatever the repository is called now.
 */
function pickLive(world: World, pick: number): { number: number; path: string } | undefined {
  const live = new Set<number>();
  for (const e of world.target.log) {
    const number = Number(e.id.split("#")[1]);
    if (e.kind === "apply") live.add(number);
    else live.delete(number);
  }
  const grants = world.opened.filter((r) => live.has(r.number));
  return grants[pick % Math.max(1, grants.length)];
}

/** Time passes: each timer fires at its own moment, the app settles, and the invariants are checked at each. */
export async function advance(world: World, oracle: Oracle, ms: number): Promise<void> {
  const until = world.clock.now() + ms;
  for (let next = world.clock.nextAt(), same = 0; next !== undefined && next <= until; next = world.clock.nextAt()) {
    same = next <= world.clock.now() ? same + 1 : 0;
    if (same > 100) throw new Error("timers keep firing without time passing");
    world.clock.set(Math.max(world.clock.now(), next));
    await world.settle();
    oracle.check();
  }
  world.clock.set(until);
  await world.settle();
}
