import type { Octokit } from "@octokit/rest";
import { FakeGitHub, type Delivery, type FakePull, type FakeRepo } from "../../testkit/fake-github.js";
import { renameAccount } from "../../testkit/fake/shapes.js";
import type { RepoRef } from "../../testkit/people.js";
import { resetLiveGrantCaches } from "../../src/github/live-grants.js";
import { WorldClock } from "./clock.js";
import { AppInstance } from "./instance.js";
import { MemoryTarget } from "./target.js";

/**
 * The world a lifecycle run happens in: one access repository on the in-memory GitHub, the people
 * who use it, the access target, the app instances running, and the webhooks GitHub has queued.
 */
export const APP_ID = 777;
/** The access repository's first name (it can be renamed during a run: use `World.ref`). */
export const REF = { owner: "acme", repo: "access" };
export const START = Date.parse("2026-11-29T12:00:00Z");

export const POLICY = `version: 1
defaults:
  max_duration: 8h
  reason_min_length: 10
  pending_timeout: 24h
  expiry_warning: 10m
  merge: auto
requesters: ["@acme/engineering"]
admins: ["@acme/security"]
resources:
  prod-db:
    provider: postgres
    config: { url_env: JIT_PROD_DB_URL }
    roles:
      read-only:
        grant: { roles: [analytics_read] }
        approvals: { min_per_group: 1, mode: all }
      read-write:
        pending_timeout: 3h
        grant: { roles: [analytics_read, app_write] }
        approvals: { min_per_group: 1, mode: all }
`;
export const CODEOWNERS = "* @acme/security\n/grants/prod-db/ @acme/dba @acme/security\n";

/** alice and bob request; dana (dba) and sam (security, a policy admin) approve; mallory only has write access. */
export const TEAMS: Record<string, string[]> = { "acme/engineering": ["alice", "bob"], "acme/dba": ["dana"], "acme/security": ["sam"] };
export const PEOPLE = ["alice", "bob", "dana", "sam", "mallory"] as const;
export type Person = (typeof PEOPLE)[number];

export interface RequestSpec {
  requester: "alice" | "bob";
  role: "read-only" | "read-write";
  minutes: number;
  /** A scheduled start this many minutes after the request is opened. */
  startIn?: number;
  /** File name: requests may reuse one (after the first grant's file is gone). */
  file: number;
}

export interface OpenedRequest {
  spec: RequestSpec;
  number: number;
  path: string;
  branch: string;
}

export class World {
  readonly clock = new WorldClock(START);
  readonly fake: FakeGitHub;
  /** The access repository: the same object through renames (GitHub keeps its id). */
  readonly repo: FakeRepo;
  /** Each person's logins, oldest first: a person can rename their login during a run. */
  private readonly logins = new Map<Person, string[]>(PEOPLE.map((p) => [p, [p]]));
  private renames = 0;
  readonly target: MemoryTarget;
  readonly instances: AppInstance[] = [];
  readonly opened: OpenedRequest[] = [];
  /** Webhooks not delivered yet, and those delivered (which GitHub can redeliver). */
  readonly pending: Delivery[] = [];
  readonly delivered: Delivery[] = [];
  private instanceCount = 0;

  constructor(standing: boolean) {
    resetLiveGrantCaches();
    this.fake = new FakeGitHub({ appId: APP_ID, now: () => new Date(this.clock.now()) });
    this.repo = this.fake.addRepo(REF.owner, REF.repo, { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": CODEOWNERS }, { writers: [...PEOPLE] });
    for (const [team, members] of Object.entries(TEAMS)) for (const login of members) this.fake.addMember(team, login);
    this.fake.onDelivery((d) => this.pending.push(d));
    this.target = new MemoryTarget(standing ? ["alice:analytics_read"] : [], () => this.clock.now());
  }

  async startInstance(): Promise<AppInstance> {
    const instance = await AppInstance.start(`app-${++this.instanceCount}`, this.fake, this.clock, APP_ID, this.target.provider);
    this.instances.push(instance);
    return instance;
  }

  /** A restart: every running instance stops (its memory and timers gone), a new one rebuilds from GitHub. */
  async restart(): Promise<void> {
    for (const i of this.instances.splice(0)) i.stop();
    resetLiveGrantCaches(); // a new process starts with empty caches
    (await this.startInstance()).rebuild();
  }

  /** The access repository's current name. */
  get ref(): RepoRef {
    return { owner: this.repo.owner, repo: this.repo.name };
  }

  loginOf(person: Person): string {
    return this.logins.get(person)!.at(-1)!;
  }

  loginsOf(person: Person): readonly string[] {
    return this.logins.get(person)!;
  }

  /** Whose login this is (or was): people keep acting after renaming themselves. */
  personOf(login: string): Person | undefined {
    return PEOPLE.find((p) => this.logins.get(p)!.some((l) => l.toLowerCase() === login.toLowerCase()));
  }

  /** A person acting through GitHub's REST API, under their current login. */
  as(person: Person): Octokit {
    return this.fake.as(this.loginOf(person));
  }

  /**
   * The repository's admin renames it. GitHub keeps its id, pull requests and check runs, sends
   * `repository.renamed`, and redirects the old name (301 for reads, 307 for writes) until
   * someone takes it: modelled, as in test/attacks/renames.test.ts, by keeping the old name as an
   * alias of the same repository (listed once).
   */
  renameRepository(): void {
    const from = `${this.repo.owner}/${this.repo.name}`;
    this.fake.rename(from, `${this.repo.owner}/access-${++this.renames}`);
    this.fake.repos.set(from.toLowerCase(), this.repo);
    this.fake.allRepos = () => [...new Set(this.fake.repos.values())];
  }

  /**
   * A person renames their login (GitHub serves no such route, so this is done on the fake's
   * state, as test/attacks/renames.test.ts models it): the account keeps its id, memberships and
   * write access follow it, everything it wrote is shown under the new login, and the old login
   * no longer exists (no redirect for users: acting as it is a 404). Grant files keep the login
   * they were written with; the memory target (a database's roles) keys by that name and does not
   * follow GitHub's renames.
   */
  renameLogin(person: Person): void {
    const from = this.loginOf(person);
    const to = `${person}-renamed-${++this.renames}`;
    renameAccount(from, to);
    this.logins.get(person)!.push(to);
    const f = from.toLowerCase();
    for (const members of this.fake.teams.values()) {
      const state = members.get(f);
      if (state === undefined) continue;
      members.delete(f);
      members.set(to, state);
    }
    if (this.repo.writers.delete(f)) this.repo.writers.add(to);
    for (const pr of this.repo.pulls.values()) {
      if (pr.author.toLowerCase() === f) pr.author = to;
      for (const c of pr.comments) if (c.login.toLowerCase() === f) c.login = to;
      for (const r of pr.reviews) if (r.login.toLowerCase() === f) r.login = to;
      for (const e of pr.events) if (e.actor.toLowerCase() === f) e.actor = to;
    }
  }

  requestOf(number: number): OpenedRequest | undefined {
    return this.opened.find((r) => r.number === number);
  }

  pull(number: number): FakePull {
    const found = this.repo.pulls.get(number);
    if (!found) throw new Error(`no pull request #${number}`);
    return found;
  }

  grantYaml(spec: RequestSpec, reason = "Investigate INC-4211: slow queries"): string {
    const start = spec.startIn ? `start: ${new Date(this.clock.now() + spec.startIn * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z")}\n` : "";
    return `requester: ${this.loginOf(spec.requester)}\nresource: prod-db\nrole: ${spec.role}\nduration: ${spec.minutes}m\nreason: "${reason}"\n${start}`;
  }

  /**
   * Lets every instance finish what it can at the current time: due timers fire, queued
   * evaluations run. Work waiting for a later moment (the scheduler reads a few seconds before a
   * grant is due, then waits) is left waiting: nothing moves, so it is settled.
   */
  async settle(): Promise<void> {
    for (let round = 0; round < 200; round++) {
      const fired = this.clock.fireDue();
      await this.quiesce();
      const dueNow = (this.clock.nextAt() ?? Infinity) <= this.clock.now();
      if (fired === 0 && !dueNow) return; // idle, or waiting for a later moment
    }
    throw new Error("the app did not settle");
  }

  /** Until every instance is idle (true), or work remains but nothing has moved for a while (false). */
  private async quiesce(): Promise<boolean> {
    const activity = () => this.fake.requests.length + this.clock.activity + this.target.applies.length + this.target.revokes.length;
    let last = activity();
    let still = 0;
    const since = this.fake.requests.length;
    for (let polls = 0; ; polls++) {
      if (polls > 3_000) throw new Error(`the app keeps working without settling; its latest requests: ${this.fake.requests.slice(Math.max(since, this.fake.requests.length - 12)).join(", ")}`);
      if (this.instances.every((i) => i.idle)) {
        await new Promise((r) => setImmediate(r));
        if (this.instances.every((i) => i.idle) && activity() === last) return true;
      }
      await new Promise((r) => setTimeout(r, 1));
      const now = activity();
      if (now !== last) {
        last = now;
        still = 0;
      } else if (++still >= 25) {
        return false;
      }
    }
  }
}
