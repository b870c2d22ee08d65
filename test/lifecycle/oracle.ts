import type { Delivery, FakePull } from "../../testkit/fake-github.js";
import { readState } from "../../src/lifecycle/codec.js";
import { EARLY_START_MS } from "../../src/lifecycle/window.js";
import type { Applied } from "./target.js";
import { REPO, TEAMS, type World } from "./world.js";

/**
 * The invariants of PRODUCT.md §7 (2, 3, 7, 8), judged from what happened — GitHub's state at the
 * moment of each merge and apply, the people's actions, the target's log — never from what the app
 * believes. Each names the request and says what went wrong.
 */
const LAG_MS = 1000;
const APPROVER_GROUPS = ["acme/dba", "acme/security"] as const;
const COMMAND = /^\/jit\s+(reject|revoke)\b/;

export class Oracle {
  readonly violations: string[] = [];
  /** Request PR number → whether the policy was met when it was merged (necessary for any apply). */
  private readonly approvedAtMerge = new Map<number, string | true>();
  /** Request PR number → the first moment someone entitled to asked for an early end. */
  private readonly asked = new Map<number, number>();

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
    const expected = new Set([...standing, ...[...live.values()].flatMap((a) => a.units)]);
    const actual = new Set(held);
    if ([...expected].some((u) => !actual.has(u)) || [...actual].some((u) => !expected.has(u))) {
      this.fail(`access at the target is {${[...actual].sort().join(", ")}}, but live grants (${[...live.keys()].join(", ") || "none"}) and standing access give {${[...expected].sort().join(", ")}}`);
    }
  }

  private onApply(a: Applied): void {
    const number = Number(a.id.split("#")[1]);
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

  private onDelivery(d: Delivery): void {
    const payload = d.payload as { action?: string; pull_request?: { number: number; merged?: boolean } };
    if (d.name !== "pull_request" || payload.action !== "closed" || !payload.pull_request?.merged) return;
    const request = this.world.requestOf(payload.pull_request.number);
    if (request) this.approvedAtMerge.set(request.number, this.judgeAtMerge(this.world.pull(request.number), request.spec.requester, request.path));
  }

  /** The policy's rules (PRODUCT.md §4, §5, invariant 7), from GitHub's state at the merge: true, or why not. */
  private judgeAtMerge(pr: FakePull, requester: string, path: string): string | true {
    if (pr.events.some((e) => e.event === "reopened")) return "it had been closed and reopened";
    const repo = this.world.fake.repos.get(REPO)!;
    const mergeCommit = repo.git.commits.get(pr.mergeCommitSha!)!;
    const before = repo.git.ancestors(mergeCommit.parents[0]!);
    const contributors = new Set([...repo.git.ancestors(pr.headSha)].filter((sha) => !before.has(sha)).flatMap((sha) => [repo.git.commits.get(sha)!.author, repo.git.commits.get(sha)!.committer]));
    const ineligible = (login: string) => login === requester || login === pr.author || contributors.has(login);
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
