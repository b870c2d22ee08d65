import { Probot } from "probot";
import { collectingLog } from "../lifecycle/instance.js";
import { createApp, type JitApp } from "../../src/app.js";
import { FakeGitHub, type Delivery, type FakePull, type FakeRepo } from "../../testkit/fake-github.js";
import type { FakeCheckRun } from "../../testkit/fake/model.js";
import { openRequest } from "../../testkit/people.js";
import { resetLiveGrantCaches } from "../../src/github/live-grants.js";
import { recordKey } from "../../src/github/record.js";
import { readState, type CommentState } from "../../src/lifecycle/codec.js";
import { githubTeamProvider } from "../../src/providers/github-team.js";
import { privateKey, TestOctokit } from "../helpers/app.js";
import { WorldClock } from "../lifecycle/clock.js";

/**
 * The arena of the attack tests (issue #17): one access repository on the stateful in-memory
 * GitHub, the real app running in a real Probot against it (app auth, webhook dispatch, the
 * scheduler with its timers on a clock the test moves), and the real `github-team` provider, so
 * the access itself is the fake's team membership — what an attacker wants — and every PUT and
 * DELETE of it is one of the app's counted requests.
 *
 * People act through REST (`as(login)`); every webhook GitHub would send, the app's own included,
 * is delivered (`deliverAll`) unless a test holds it back. Nothing is timed: tests read state and
 * count requests.
 */
export const APP_ID = 4711;
export const REF = { owner: "acme", repo: "access" } as const;
export const START = Date.parse("2026-11-29T12:00:00Z");
export const TEAM = "acme/prod-admins";

export const POLICY = `version: 1
defaults:
  max_duration: 8h
  reason_min_length: 10
  pending_timeout: 24h
  expiry_warning: 5m
  merge: auto
admins: ["@acme/security"]
resources:
  prod-admins:
    provider: github-team
    config: { org: acme, team: prod-admins }
    roles:
      member: { max_duration: 8h }
`;

/** dana and erin (platform) approve grants; sam (security) owns everything else, the policy and CODEOWNERS included. */
export const CODEOWNERS = "* @acme/security\n/grants/prod-admins/ @acme/platform\n/.github/jit-access.yml @acme/security\n";
export const TEAMS: Record<string, string[]> = { "acme/platform": ["dana", "erin"], "acme/security": ["sam"] };
/** alice requests; bob is her colleague (no role in the policy); mallory and friend only have write access. */
export const PEOPLE = ["alice", "bob", "dana", "erin", "sam", "mallory", "friend"];


export interface Grant {
  number: number;
  path: string;
  branch: string;
}

export class Arena {
  readonly clock = new WorldClock(START);
  readonly fake: FakeGitHub;
  readonly repo: FakeRepo;
  /** Webhooks GitHub has queued and not delivered yet. */
  readonly pending: Delivery[] = [];
  /** What the app logged as errors (failed evaluations, alerts). */
  readonly errors: string[] = [];
  probot!: Probot;
  app!: JitApp;
  private readonly background = new Set<Promise<unknown>>();
  private clockView = this.clock.view();

  constructor(o: { policy?: string; codeowners?: string } = {}) {
    resetLiveGrantCaches();
    this.fake = new FakeGitHub({ appId: APP_ID, now: () => new Date(this.clock.now()) });
    this.repo = this.fake.addRepo(REF.owner, REF.repo, { ".github/jit-access.yml": o.policy ?? POLICY, ".github/CODEOWNERS": o.codeowners ?? CODEOWNERS }, { writers: PEOPLE });
    for (const [team, members] of Object.entries(TEAMS)) for (const login of members) this.fake.addMember(team, login);
    this.fake.onDelivery((d) => this.pending.push(d));
  }

  static async start(o: { policy?: string; codeowners?: string } = {}): Promise<Arena> {
    const arena = new Arena(o);
    await arena.boot();
    return arena;
  }

  /** A (re)started app: empty memory, the scheduler rebuilt from GitHub. */
  async boot(): Promise<void> {
    if (this.app) this.app.scheduler.stop();
    this.clockView.dispose();
    resetLiveGrantCaches();
    this.clockView = this.clock.view();
    this.probot = new Probot({ appId: APP_ID, privateKey, Octokit: TestOctokit, request: { fetch: this.fake.fetch }, log: collectingLog(this.errors) as never });
    this.app = createApp({ appId: APP_ID, clock: this.clockView, providers: (name, gh) => (name === "github-team" ? githubTeamProvider(gh) : undefined), sweepSchedule: null });
    await this.probot.load(this.app);
    this.track(this.app.scheduler.rebuild());
    await this.settle();
  }

  stop(): void {
    this.fake.closed = true;
    this.app?.scheduler.stop();
    this.clockView.dispose();
  }

  as(login: string) {
    return this.fake.as(login);
  }

  now(): Date {
    return new Date(this.clock.now());
  }

  pull(number: number): FakePull {
    return this.fake.pull(`${REF.owner}/${REF.repo}`, number);
  }

  isMember(login: string, team = TEAM): boolean {
    return this.fake.isMember(team, login);
  }

  /** The app's PUTs of a team membership (an apply of github-team), for `login` if given. */
  membershipPuts(login?: string, team = TEAM): number {
    const prefix = `PUT /orgs/${team.replace("/", "/teams/")}/memberships/`;
    return this.fake.requests.filter((r) => r.startsWith(prefix) && (!login || r.toLowerCase() === `${prefix}${login}`.toLowerCase())).length;
  }

  /** The PR's record: the app's newest `jit-access` run for it (on any commit). */
  recordRun(number: number): FakeCheckRun | undefined {
    const key = recordKey({ repoId: this.repo.id, number });
    return this.repo.checkRuns.filter((r) => r.appId === APP_ID && r.externalId?.toLowerCase() === key).sort((a, b) => b.id - a.id)[0];
  }

  record(number: number): CommentState | undefined {
    const run = this.recordRun(number);
    return run ? readState(run.output.text) : undefined;
  }

  /** The newest `jit-access` check run of this app on the PR's head (its check). */
  check(number: number): FakeCheckRun | undefined {
    const head = this.pull(number).headSha;
    return this.repo.checkRuns.filter((r) => r.appId === APP_ID && r.headSha === head && r.name === "jit-access").sort((a, b) => b.id - a.id)[0];
  }

  onMain(path: string): boolean {
    return this.repo.git.resolve("main")!.tree.has(path);
  }

  grantYaml(requester: string, o: { minutes?: number; start?: Date; reason?: string } = {}): string {
    const start = o.start ? `start: ${o.start.toISOString().replace(/\.\d{3}Z$/, "Z")}\n` : "";
    return `requester: ${requester}\nresource: prod-admins\nrole: member\nduration: ${o.minutes ?? 12}m\nreason: "${o.reason ?? "Investigate INC-4211: stuck deploys"}"\n${start}`;
  }

  /** `requester` opens a request PR for a grant (12 minutes by default); the app judges it. */
  async open(requester: string, o: { name?: string; minutes?: number; start?: Date } = {}): Promise<Grant> {
    const name = o.name ?? `${requester}-1`;
    const path = `grants/prod-admins/${name}.yaml`;
    const branch = `request-${name}`;
    const number = await openRequest(this.as(requester), REF, { branch, path, content: this.grantYaml(requester, o) });
    if (number === undefined) throw new Error(`GitHub refused the request ${path}`);
    await this.deliverAll();
    return { number, path, branch };
  }

  /** dana (the grant path's owner) approves; the app merges and applies. */
  async approve(number: number, by = "dana"): Promise<void> {
    await this.as(by).rest.pulls.createReview({ ...REF, pull_number: number, event: "APPROVE" });
    await this.deliverAll();
  }

  /** A request opened, approved, merged and applied: a live grant. */
  async liveGrant(requester = "alice", o: { name?: string; minutes?: number; start?: Date } = {}): Promise<Grant> {
    const g = await this.open(requester, o);
    await this.approve(g.number);
    return g;
  }

  /** Every queued webhook (and those they cause), delivered in order until GitHub has nothing left to send. */
  async deliverAll(rounds = 50): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      await this.settle();
      if (!this.pending.length) return;
      for (const d of this.pending.splice(0)) await this.deliver(d);
    }
    throw new Error("webhooks keep coming");
  }

  async deliver(d: Delivery): Promise<void> {
    await this.probot.receive({ id: d.id, name: d.name, payload: d.payload } as Parameters<Probot["receive"]>[0]);
  }

  /** Drops queued webhooks that match (GitHub lost them, or a test delivers them itself later). */
  take(match: (d: Delivery) => boolean): Delivery[] {
    const taken = this.pending.filter(match);
    for (const d of taken) this.pending.splice(this.pending.indexOf(d), 1);
    return taken;
  }

  async sweep(): Promise<void> {
    this.track(this.app.scheduler.sweep());
    await this.deliverAll();
  }

  /** Time passes: each timer fires at its own moment, webhooks are delivered, the app settles. */
  async advance(ms: number): Promise<void> {
    const until = this.clock.now() + ms;
    for (let next = this.clock.nextAt(), same = 0; next !== undefined && next <= until; next = this.clock.nextAt()) {
      same = next <= this.clock.now() ? same + 1 : 0;
      if (same > 100) throw new Error("timers keep firing without time passing");
      this.clock.set(Math.max(this.clock.now(), next));
      await this.deliverAll();
    }
    this.clock.set(until);
    await this.deliverAll();
  }

  /** Minute by minute, with the per-minute sweep GitHub's cron would run. */
  async advanceSweeping(minutes: number): Promise<void> {
    for (let i = 0; i < minutes; i++) {
      await this.advance(60_000);
      await this.sweep();
    }
  }

  /** Lets the app finish what it can now: due timers fire, queued evaluations run. */
  async settle(): Promise<void> {
    for (let round = 0; round < 500; round++) {
      const fired = this.clock.fireDue();
      await this.quiesce();
      const dueNow = (this.clock.nextAt() ?? Infinity) <= this.clock.now();
      if (fired === 0 && !dueNow) return;
    }
    throw new Error("the app did not settle");
  }

  private get idle(): boolean {
    return this.app.queue.depth === 0 && this.background.size === 0;
  }

  private async quiesce(): Promise<void> {
    const activity = () => this.fake.requests.length + this.clock.activity;
    let last = activity();
    let still = 0;
    for (let polls = 0; polls < 20_000; polls++) {
      if (this.idle) {
        await new Promise((r) => setImmediate(r));
        if (this.idle && activity() === last) return;
      }
      await new Promise((r) => setTimeout(r, 1));
      const now = activity();
      if (now !== last) {
        last = now;
        still = 0;
      } else if (++still >= 25) {
        return;
      }
    }
    throw new Error(`the app keeps working without settling; its latest requests: ${this.fake.requests.slice(-12).join(", ")}`);
  }

  private track(work: Promise<unknown>): void {
    const tracked: Promise<unknown> = work.catch((error: unknown) => this.errors.push(`background: ${(error as Error).message}`)).finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }
}
