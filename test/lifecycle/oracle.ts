import type { Delivery, FakePull } from "../../testkit/fake-github.js";
import { recordKey } from "../../src/github/record.js";
import { readState } from "../../src/lifecycle/codec.js";
import { EARLY_START_MS } from "../../src/lifecycle/window.js";
import type { Applied } from "./target.js";
import { TEAMS, type World } from "./world.js";

/**
 * The invariants of docs/reference/invariants.md (2, 3, 7, 8), judged from what happened — GitHub's state at the
 * moment of each merge and apply, the people's actions, the target's log — never from what the app
 * believes. Each names the request and says what went wrong.
 */
const LAG_MS = 1000;
const APPROVER_GROUPS = ["acme/dba", "acme/security"] as const;
const COMMAND = /^\/jit\s+(reject|revoke)\b/;

/** What one grant gave at the target, as the target saw it at the grant's first apply. */
interface Given {
  id: string;
  units: string[];
  firstAt: number;
  end: number;
  /** Units held before that apply for no grant's sake (the target's ground truth). */
  standingBefore: Set<string>;
  /** Units the grant's own record, as GitHub held it at that apply, called standing. */
  recordedStanding: Set<string>;
}

export class Oracle {
  readonly violations: string[] = [];
  /** Request PR number → whether the policy was met when it was merged (necessary for any apply). */
  private readonly approvedAtMerge = new Map<number, string | true>();
  /** Request PR number → the first moment someone entitled to asked for an early end. */
  private readonly asked = new Map<number, number>();
  /** Grant id → what it applied and what was held before it, from its first apply. */
  private readonly given = new Map<string, Given>();

  constructor(private readonly world: World) {
    world.fake.onDelivery((d) => this.onDelivery(d));
    world.target.onApply = (a) => this.onApply(a);
  }

  /** `/jit revoke` by the requester, an approver group member or an admin; a merged deletion of the file. */
  noteAsk(number: number): void {
    if (!this.asked.has(number)) this.asked.set(number, this.world.clock.now());
  }

  /** After every step: what must hold at any moment. */
  check(): void {
    const now = this.world.clock.now();
    const { log, applies, revokes, held, standing } = this.world.target;
    // Live: applied and not revoked since, in the order things reached the target.
    const live = new Map<string, Applied>();
    for (const e of log) {
      if (e.kind === "apply") {
        live.set(e.id, e);
        continue;
      }
      const applied = applies.find((a) => a.id === e.id && a.at <= e.at);
      if (!applied) continue;
      live.delete(e.id);
      const ask = this.asked.get(Number(e.id.split("#")[1]));
      if (e.at < Date.parse(applied.expiresAt) && (ask === undefined || ask > e.at)) {
        this.fail(`${e.id} revoked at ${iso(e.at)}, before its expires_at ${applied.expiresAt}, and nobody entitled asked for it`);
      }
    }
    for (const a of applies) {
      const end = Date.parse(a.expiresAt);
      if (now < end + LAG_MS) continue;
      const revoked = revokes.find((r) => r.id === a.id && r.at >= a.at);
      if (!revoked || revoked.at > end + LAG_MS) this.fail(`${a.id} expired at ${a.expiresAt} but was ${revoked ? `revoked only at ${iso(revoked.at)}` : "never revoked"} (now ${iso(now)})`);
    }
    // Every unit a grant gave is gone by its end (with the lag), unless it was held before the
    // grant for no grant's sake AND the grant's record said so before the apply, or another grant,
    // itself not yet over, gives it now. A unit kept because a record wrongly called it standing
    // (one grant's unit taken for another's standing access) is caught here, grant by grant.
    for (const g of this.given.values()) {
      if (now < g.end + LAG_MS) continue;
      for (const u of g.units) {
        if (!held.has(u)) continue;
        if (g.standingBefore.has(u) && g.recordedStanding.has(u)) continue;
        if ([...live.values()].some((a) => a.id !== g.id && a.units.includes(u) && now < Date.parse(a.expiresAt) + LAG_MS)) continue;
        const why = g.standingBefore.has(u) ? "it was held before, but its record did not say so before the apply" : g.recordedStanding.has(u) ? "its record called it standing, but only a grant gave it" : "nothing recorded it as standing";
        this.fail(`${g.id} applied ${u} at ${iso(g.firstAt)}; its end ${iso(g.end)} has passed and ${u} is still held (${why})`);
      }
    }
    const expected = new Set([...standing, ...[...live.values()].flatMap((a) => a.units)]);
    const actual = new Set(held);
    if ([...expected].some((u) => !actual.has(u)) || [...actual].some((u) => !expected.has(u))) {
      this.fail(`access at the target is {${[...actual].sort().join(", ")}}, but live grants (${[...live.keys()].join(", ") || "none"}) and standing access give {${[...expected].sort().join(", ")}}`);
    }
  }

  private onApply(a: Applied): void {
    const number = Number(a.id.split("#")[1]);
    // Called before the apply takes effect: the target shows what was held before it, and GitHub
    // shows every record written before it.
    if (!this.given.has(a.id)) {
      const target = this.world.target;
      this.given.set(a.id, { id: a.id, units: a.units, firstAt: a.at, end: Date.parse(a.expiresAt), standingBefore: new Set(a.units.filter((u) => target.isStanding(u))), recordedStanding: this.recordedStanding(number) });
    }
    const verdict = this.approvedAtMerge.get(number);
    if (verdict !== true) this.fail(`${a.id} applied although ${verdict ?? "it was never merged"}`);
    if (this.world.target.revokes.some((r) => r.id === a.id)) this.fail(`${a.id} applied again at ${iso(a.at)} after it had been revoked`);
    const earlier = this.world.target.applies.find((x) => x.id === a.id);
    if (earlier && (earlier.startsAt !== a.startsAt || earlier.expiresAt !== a.expiresAt)) {
      this.fail(`${a.id} applied with a second window: ${earlier.startsAt}…${earlier.expiresAt}, then ${a.startsAt}…${a.expiresAt}`);
    }
    // A scheduled grant is applied EARLY_START_MS before its start, by design (lifecycle/window.ts): an extension is live when the grant it continues is revoked.
    if (a.at < Date.parse(a.startsAt) - EARLY_START_MS || a.at >= Date.parse(a.expiresAt)) this.fail(`${a.id} applied at ${iso(a.at)}, outside its window ${a.startsAt}…${a.expiresAt}`);
  }

  /** Every unit any version of this app's record of the request has called standing, so far. */
  private recordedStanding(number: number): Set<string> {
    const repo = this.world.repo;
    const key = recordKey({ repoId: repo.id, number });
    const runs = repo.checkRuns.filter((run) => run.appId === this.world.fake.app.id && run.externalId === key);
    return new Set(runs.flatMap((run) => run.history.flatMap((h) => readState(h.text)?.standing ?? [])));
  }

  private onDelivery(d: Delivery): void {
    const payload = d.payload as { action?: string; pull_request?: { number: number; merged?: boolean } };
    if (d.name !== "pull_request" || payload.action !== "closed" || !payload.pull_request?.merged) return;
    const request = this.world.requestOf(payload.pull_request.number);
    if (request) this.approvedAtMerge.set(request.number, this.judgeAtMerge(this.world.pull(request.number), this.world.loginsOf(request.spec.requester), request.path));
  }

  /** The policy's rules (docs/reference/approvals.md, docs/reference/statuses.md, invariant 7), from GitHub's state at the merge: true, or why not. */
  private judgeAtMerge(pr: FakePull, requester: readonly string[], path: string): string | true {
    if (pr.events.some((e) => e.event === "reopened")) return "it had been closed and reopened";
    const repo = this.world.repo;
    const mergeCommit = repo.git.commits.get(pr.mergeCommitSha!)!;
    const before = repo.git.ancestors(mergeCommit.parents[0]!);
    const contributors = new Set([...repo.git.ancestors(pr.headSha)].filter((sha) => !before.has(sha)).flatMap((sha) => [repo.git.commits.get(sha)!.author, repo.git.commits.get(sha)!.committer]));
    // Every login the requester has had: a rename does not make them someone else.
    const ineligible = (login: string) => requester.includes(login) || login === pr.author || contributors.has(login);
    const headBlob = repo.git.commits.get(pr.headSha)!.tree.get(path);
    const latest = new Map<string, FakePull["reviews"][number]>();
    for (const r of pr.reviews) if (r.state !== "COMMENTED") latest.set(r.login, r);
    const approvers = APPROVER_GROUPS.flatMap((g) => TEAMS[g]!);
    for (const [login, r] of latest) if (r.state === "CHANGES_REQUESTED" && approvers.includes(login) && !ineligible(login)) return `${login} requested changes`;
    for (const c of pr.comments) {
      if (approvers.includes(c.login) && !ineligible(c.login) && c.createdAt === c.updatedAt && COMMAND.exec(c.body.trim())?.[1] === "reject") return `${c.login} rejected it`;
    }
    for (const group of APPROVER_GROUPS) {
      const ok = TEAMS[group]!.some((login) => {
        const r = latest.get(login);
        return r?.state === "APPROVED" && !ineligible(login) && repo.git.commits.get(r.commitId)?.tree.get(path) === headBlob;
      });
      if (!ok) return `@${group} had not approved it`;
    }
    const heads = new Set(repo.git.ancestors(pr.headSha));
    const rejected = repo.checkRuns.some((run) => run.appId === this.world.fake.app.id && heads.has(run.headSha) && run.history.some((h) => readState(h.text)?.status === "REJECTED"));
    if (rejected) return "the app had recorded it rejected";
    return true;
  }

  private fail(message: string): void {
    if (!this.violations.includes(message)) this.violations.push(message);
  }
}

const iso = (t: number) => new Date(t).toISOString();
