import { createHash } from "node:crypto";
import { beforeEach } from "@jest/globals";
import type nock from "nock";
import type { Probot } from "probot";
import { resetProvenanceCache } from "../../src/github/provenance.js";
import { resetJudgingFileCache } from "../../src/github/snapshot.js";
import { APP_ID, deliver, mockInstallationToken } from "./app.js";
import { blobSha, contents, HEAD } from "./fixtures.js";
import { githubApi } from "./github-mock.js";
import { OWNER, pullRequest, pullRequestEvent, REPO, type PrFields } from "./payloads.js";

export const R = `/repos/${OWNER}/${REPO}`;
export const enc = (path: string) => encodeURIComponent(path);

export interface FileChange {
  filename: string;
  status: "added" | "removed" | "modified" | "renamed";
  content?: string;
  previous_filename?: string;
}

export interface Scenario {
  pr: PrFields;
  files: FileChange[];
  /** The policy on the default branch; null: the repository has none. */
  policy: string | null;
  codeowners?: { path: string; text: string } | null;
  reviews?: { login: string; state: string; commitId?: string; bot?: boolean }[];
  commits?: { author?: string; committer?: string }[];
  comments?: { id: number; login: string; body: string; byApp?: boolean; createdAt?: string; updatedAt?: string }[];
  /** Timeline events besides comments (`reopened`, `closed`, …). */
  events?: { event: string; actor?: string; createdAt?: string; fields?: Record<string, unknown> }[];
  /** This app's `jit-access` check runs on the head commit (the record is the newest one's text). */
  checkRuns?: Record<string, unknown>[] | null;
  /** For a merged request: its grant file on the default branch (null: not read at all); the head's content by default. */
  onMain?: string | null;
  /** Who loads the snapshot: the app (knows its id) or the CLI (does not: no app_id in the query). */
  reader?: "app" | "cli";
  /**
   * A live grant whose end is due (its window passed, or an end already decided): the app revokes
   * before reading its timeline, and looks its status comment up (issue comments) only to redraw it.
   */
  endDue?: boolean;
  /** Read by the CLI that knows the app's id (`jit inbox`): the policy and CODEOWNERS at the branch's name, no ref read, no cache. */
  byCli?: true;
  /** Grant file content at older commits that approvals were given on (null: absent). */
  contentAt?: Record<string, string | null>;
  /** For a policy change: the PR's files as compared from its base to older commits approvals were given on. */
  diffAt?: Record<string, FileChange[]>;
  /** `@org/team:login` → membership state; only these lookups may happen. */
  memberships?: Record<string, "active" | "pending" | "none">;
  /**
   * Where the policy and CODEOWNERS on the default branch came from, for the provenance check of
   * an open request or policy change: by default one commit merged from an approved policy PR (#3). null: the
   * test mocks those reads itself.
   */
  provenance?: null;
}

/** The commit on the default branch that last changed the policy and CODEOWNERS, and the approved policy PR it came from. */
export const POLICY_COMMIT = "5".repeat(40);
export const POLICY_PR = { number: 3, headSha: "3".repeat(40) };

export function prFields(overrides: Partial<PrFields> = {}): PrFields {
  return { number: 7, author: "alice", headSha: HEAD, ...overrides };
}

/** CODEOWNERS on the default branch: an empty `.github/CODEOWNERS` unless the scenario says otherwise. */
const codeownersOf = (sc: Pick<Scenario, "codeowners">) => (sc.codeowners === undefined ? { path: ".github/CODEOWNERS", text: "" } : sc.codeowners);

/**
 * The default branch's head commit in a scenario, named by the policy and CODEOWNERS on it: as in
 * git, other content is another commit, and the same content (a redelivery, the next event) the same.
 */
export function mainHead(sc: Pick<Scenario, "policy" | "codeowners">): string {
  return createHash("sha1").update(JSON.stringify([sc.policy, codeownersOf(sc)])).digest("hex");
}

/**
 * The app reads the policy and CODEOWNERS once per commit of the default branch (snapshot.ts,
 * JudgingFiles). What it has read in this test, by `head:file`, so that the next evaluation's mocks
 * hold exactly the reads it makes: the ref read always, a file's contents only at a new commit.
 */
const readAtHead = new Set<string>();
beforeEach(() => {
  resetJudgingFileCache();
  readAtHead.clear();
});

/**
 * A read whose answer a commit fixes (src/github/fixed-reads.ts): the app makes it once per process
 * and key, so it is mocked only the first time a test's scenarios ask for it.
 */
function mockFixedRead(key: string | undefined, mock: () => void): void {
  if (key !== undefined && readAtHead.has(`fixed:${key}`)) return;
  if (key !== undefined) readAtHead.add(`fixed:${key}`);
  mock();
}

/** The key of a PR's files and commits, fixed by its head and the default branch's commit; none for the CLI, which reads at the branch's name. */
function pullKey(sc: Scenario): string | undefined {
  return sc.reader === "cli" || sc.byCli ? undefined : `${sc.pr.number}:${sc.pr.headSha}:${mainHead(sc)}`;
}

/** The app's one ref read of an evaluation: where the default branch points now. */
export function mockMainHead(api: nock.Scope, head: string): void {
  api.get(`${R}/git/ref/${enc("heads/main")}`).reply(200, { ref: "refs/heads/main", object: { sha: head, type: "commit" } });
}

/**
 * A judging file read by the app (at the head: `at` a commit) unless it was read at that commit
 * before; the CLI (`at` "main") reads at the branch's name every time.
 */
function mockJudgingRead(at: string, file: string, mock: (ref: string) => void): void {
  if (at === "main") return mock("main");
  if (readAtHead.has(`${at}:${file}`)) return;
  readAtHead.add(`${at}:${file}`);
  mock(at);
}

/** Where a scenario's reader reads the policy and CODEOWNERS: the app at the head commit (after a ref read), the CLI at "main". */
function judgingRef(api: nock.Scope, sc: Scenario, readRef: boolean): string {
  if (sc.reader === "cli" || sc.byCli) return "main";
  const head = mainHead(sc);
  if (readRef) mockMainHead(api, head);
  return head;
}

/** Mocks every read the app makes while loading the snapshot of a request PR. */
export function mockReads(api: nock.Scope, sc: Scenario, stage: "policy-only" | "through-comments" | "full" = "full"): void {
  api.get(`${R}/pulls/${sc.pr.number}`).reply(200, pullRequest(sc.pr));
  mockPolicyOnMain(api, sc);
  if (sc.policy === null) return;
  mockReadsAfterPolicy(api, sc, stage);
}

/** The reads that follow the default branch's policy (mockReads without the PR, the ref and the policy). */
export function mockReadsAfterPolicy(api: nock.Scope, sc: Scenario, stage: "policy-only" | "through-comments" | "full" = "full"): void {
  mockFixedRead(pullKey(sc) && `files:${pullKey(sc)}`, () => api.get(`${R}/pulls/${sc.pr.number}/files`).query({ per_page: 100 }).reply(200, sc.files.map(listedFile)));
  if (sc.checkRuns !== null) mockCheckRuns(api, sc.pr.headSha, sc.checkRuns ?? defaultRecord(sc), sc.reader === "cli" ? null : APP_ID);
  if (stage === "policy-only") return;
  if (sc.endDue) return;
  mockComments(api, sc);
  if (stage === "through-comments") return;
  const grant = sc.files[0]!;
  mockFixedRead(`file:${sc.pr.headSha}:${grant.filename}`, () => api.get(`${R}/contents/${enc(grant.filename)}`).query({ ref: sc.pr.headSha }).reply(200, contents(grant.filename, grant.content!)));
  // A merged request handled for the first time: is its file still on the default branch?
  if (sc.pr.merged && sc.onMain !== null) mockGrantOnMain(api, grant.filename, sc.onMain ?? grant.content!);
}

/** A file as GitHub lists it for a PR or a comparison. */
function listedFile(f: FileChange): Record<string, unknown> {
  return {
    sha: f.content === undefined ? "0".repeat(40) : blobSha(f.content),
    filename: f.filename,
    status: f.status,
    additions: 5,
    deletions: 0,
    changes: 5,
    ...(f.previous_filename ? { previous_filename: f.previous_filename } : {}),
  };
}

/** The PR's timeline: its comments (as `commented` events) and any other events (`reopened`, …). */
export function mockComments(api: nock.Scope, sc: Pick<Scenario, "pr" | "comments" | "events" | "reviews">): void {
  api
    .get(`${R}/issues/${sc.pr.number}/timeline`)
    .query({ per_page: 100 })
    .reply(200, [
      ...(sc.comments ?? []).map((c) => ({
        event: "commented",
        id: c.id,
        body: c.body,
        user: { login: c.byApp ? "jit-access[bot]" : c.login, type: c.byApp ? "Bot" : "User" },
        actor: { login: c.byApp ? "jit-access[bot]" : c.login, type: c.byApp ? "Bot" : "User" },
        created_at: c.createdAt ?? "2026-11-29T12:30:00Z",
        updated_at: c.updatedAt ?? c.createdAt ?? "2026-11-29T12:30:00Z",
        performed_via_github_app: c.byApp ? { id: APP_ID, slug: "jit-access" } : null,
      })),
      ...(sc.events ?? []).map((e, i) => ({ id: 9_000 + i, event: e.event, actor: { login: e.actor ?? "alice", type: "User" }, created_at: e.createdAt ?? "2026-11-29T12:35:00Z", performed_via_github_app: null, ...(e.fields ?? {}) })),
      // Reviews, as the timeline shows them (the app reads a request's reviews from here).
      ...reviewsOf(sc).map((r) => ({ ...r, event: "reviewed", state: String(r.state).toLowerCase(), author_association: "MEMBER" })),
    ]);
}

/** The approval-related reads: CODEOWNERS on the base branch, reviews, commits, older blobs, memberships. */
export function mockApprovalReads(api: nock.Scope, sc: Scenario): void {
  const found = codeownersOf(sc);
  mockCodeowners(api, judgingRef(api, sc, false), found);
  // A request's reviews come with its timeline; a policy change (whose timeline is not read) lists them.
  if (isPolicyChange(sc)) api.get(`${R}/pulls/${sc.pr.number}/reviews`).query({ per_page: 100 }).reply(200, reviewsOf(sc));
  // Who committed is read only when a review can count (or for `jit inbox`), and a policy
  // change's commits are not kept (only a request's are: src/github/snapshot.ts).
  const dismissed = new Set((sc.events ?? []).map((e) => (e.fields?.dismissed_review as { review_id?: number } | undefined)?.review_id));
  const mayCount = (sc.reviews ?? []).some((r, i) => (r.state === "APPROVED" || r.state === "CHANGES_REQUESTED") && !dismissed.has(100 + i));
  if (mayCount || sc.byCli) mockFixedRead(isPolicyChange(sc) ? undefined : pullKey(sc) && `commits:${pullKey(sc)}`, () =>
    api
      .get(`${R}/pulls/${sc.pr.number}/commits`)
      .query({ per_page: 100 })
      .reply(
        200,
        (sc.commits ?? [{ author: sc.pr.author, committer: sc.pr.author }]).map((c, i) => ({
          sha: i === 0 ? sc.pr.headSha : `${i}`.padStart(40, "c"),
          author: c.author ? { login: c.author } : null,
          committer: c.committer ? { login: c.committer } : null,
          commit: { message: "request access" },
        })),
      ),
  );
  const grant = sc.files[0]!;
  for (const [sha, content] of Object.entries(sc.contentAt ?? {})) {
    mockFixedRead(`file:${sha}:${grant.filename}`, () => {
      const i = api.get(`${R}/contents/${enc(grant.filename)}`).query({ ref: sha });
      if (content === null) i.reply(404, { message: "Not Found" });
      else i.reply(200, contents(grant.filename, content));
    });
  }
  // An open request or policy change is judged only by a policy and CODEOWNERS that came through an approved PR.
  const judgedByApp = (sc.pr.merged || sc.pr.state !== "closed") && sc.reader !== "cli" && !sc.byCli;
  if (judgedByApp && sc.provenance !== null && sc.policy !== null) {
    mockProvenance(api, [{ path: ".github/jit-access.yml", text: sc.policy }, ...(found ? [found] : [])]);
  }
  for (const [sha, files] of Object.entries(sc.diffAt ?? {})) {
    api.get(`${R}/compare/${sc.pr.baseRef ?? "main"}...${sha}`).query({ per_page: 1 }).reply(200, { status: "ahead", ahead_by: 1, behind_by: 0, total_commits: 1, commits: [], files: files.map(listedFile) });
  }
  mockTeamLists(api, sc.memberships ?? {});
}

/**
 * The member lists of the teams `memberships` names (`@org/team:login` → state), one read per team:
 * GitHub lists active members only, so a pending invitation or "none" is left out.
 */
export function mockTeamLists(api: nock.Scope, memberships: Record<string, "active" | "pending" | "none">): void {
  const teams = new Map<string, string[]>();
  for (const [key, state] of Object.entries(memberships)) {
    const [team, login] = key.split(":") as [string, string];
    const members = teams.get(team) ?? [];
    if (state === "active") members.push(login);
    teams.set(team, members);
  }
  for (const [team, logins] of teams) {
    const [org, slug] = team.slice(1).split("/") as [string, string];
    api.get(`/orgs/${org}/teams/${slug}/members`).query({ per_page: 100 }).reply(200, logins.map((login, i) => ({ login, id: 7_000 + i, type: "User" })));
  }
}

/** The reviews of a scenario as GitHub's reviews list gives them. */
function reviewsOf(sc: Pick<Scenario, "pr" | "reviews">): Record<string, unknown>[] {
  return (sc.reviews ?? []).map((r, i) => ({
    id: 100 + i,
    user: { login: r.login, type: r.bot ? "Bot" : "User" },
    state: r.state,
    commit_id: r.commitId ?? sc.pr.headSha,
    submitted_at: "2026-11-29T12:40:00Z",
  }));
}

/** A PR that changes the policy or a CODEOWNERS file (judged as a policy change). */
function isPolicyChange(sc: Pick<Scenario, "files">): boolean {
  return sc.files.some((f) => [".github/jit-access.yml", ".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"].includes(f.filename));
}

/** CODEOWNERS read where `at` says (GitHub's order of places: a 404 for each before the one found), unless already read there. */
function mockCodeowners(api: nock.Scope, at: string, found: { path: string; text: string } | null): void {
  mockJudgingRead(at, "codeowners", (ref) => {
    for (const path of [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]) {
      const i = api.get(`${R}/contents/${enc(path)}`).query({ ref });
      if (found && found.path === path) {
        i.reply(200, contents(path, found.text));
        break;
      }
      i.reply(404, { message: "Not Found" });
    }
  });
}

/** The app's read of CODEOWNERS on the default branch of a scenario (at its head commit, once per commit), for tests that mock reads one by one. */
export function mockCodeownersOnMain(api: nock.Scope, sc: Scenario): void {
  mockCodeowners(api, judgingRef(api, sc, false), codeownersOf(sc));
}

/** The app's reads of the default branch's policy for tests that mock reads one by one: the ref read, then the policy (once per commit). */
export function mockPolicyOnMain(api: nock.Scope, sc: Scenario): void {
  const at = judgingRef(api, sc, true);
  mockJudgingRead(at, "policy", (ref) => {
    const policy = api.get(`${R}/contents/${enc(".github/jit-access.yml")}`).query({ ref });
    if (sc.policy === null) policy.reply(404, { message: "Not Found" });
    else policy.reply(200, contents(".github/jit-access.yml", sc.policy));
  });
}

/**
 * The provenance reads of files on the default branch (github/provenance.ts): each one's last
 * commit (`commit`, one for all by default) and its content there, the PR that commit came from,
 * and that PR's check runs on its head (`runs`: this app's success by default). Forgets the
 * verdicts the app already holds, so that the reads happen whatever an earlier case left.
 */
export function mockProvenance(
  api: nock.Scope,
  files: { path: string; text: string }[],
  o: { commit?: string; pulls?: Record<string, unknown>[]; runs?: Record<string, unknown>[] } = {},
): void {
  resetProvenanceCache();
  const commit = o.commit ?? POLICY_COMMIT;
  for (const f of files) {
    api.get(`${R}/commits`).query({ sha: "main", path: f.path, per_page: 2 }).reply(200, [{ sha: commit }]);
    api.get(`${R}/contents/${enc(f.path)}`).query({ ref: commit }).reply(200, contents(f.path, f.text));
  }
  const pulls = o.pulls ?? [{ number: POLICY_PR.number, merged_at: "2026-11-28T09:00:00Z", base: { ref: "main" }, head: { sha: POLICY_PR.headSha } }];
  api.get(`${R}/commits/${commit}/pulls`).reply(200, pulls);
  for (const pr of pulls) {
    if (!pr.merged_at || (pr.base as { ref: string }).ref !== "main") continue;
    const runs = o.runs ?? [recordRun("", { output: { title: "The new policy is valid and approved by its owners", summary: "", text: "" } }, pr.number as number)];
    const head = (pr.head as { sha: string }).sha;
    mockCheckRuns(api, head, runs);
    // Approved: each file is compared with what that PR's head held (the same content here).
    if (runs.some((r) => r.status === "completed" && r.conclusion === "success")) {
      for (const f of files) api.get(`${R}/contents/${enc(f.path)}`).query({ ref: head }).reply(200, contents(f.path, f.text));
      break;
    }
  }
}

/** This app's `jit-access` check runs on a commit, as the record loader asks for them. */
export function mockCheckRuns(api: nock.Scope, sha: string, existing: Record<string, unknown>[] = [], appId: number | null = APP_ID): void {
  api
    .get(`${R}/commits/${sha}/check-runs`)
    .query({ check_name: "jit-access", ...(appId === null ? {} : { app_id: appId }), filter: "all", per_page: 100 })
    .reply(200, { total_count: existing.length, check_runs: existing });
}

/** The id of the check run that holds a scenario's record. */
export const RECORD_RUN = 77;

/** A check run of this app whose text is `text`: the grant's record. */
export function recordRun(text: string, extra: Record<string, unknown> = {}, number = 7): Record<string, unknown> {
  return { id: RECORD_RUN, name: "jit-access", external_id: `acme/access#${number}`, app: { id: APP_ID, slug: "jit-access" }, status: "completed", conclusion: "success", output: { title: "Approved", summary: "approved", text }, ...extra };
}

/** Unless a test says otherwise, the record and its display agree: the app's status comment is the record's copy. */
function defaultRecord(sc: Scenario): Record<string, unknown>[] {
  const comment = sc.comments?.find((c) => c.byApp);
  return comment ? [recordRun(comment.body)] : [];
}

/** A live grant's evaluation asks whether its file is still on the default branch. */
export function mockGrantOnMain(api: nock.Scope, path: string, content: string | null): void {
  const i = api.get(`${R}/contents/${enc(path)}`).query({ ref: "main" });
  if (content === null) i.reply(404, { message: "Not Found" });
  else i.reply(200, contents(path, content));
}

/** The record read again just before a write that must happen once (another replica may have written it). */
export function mockFreshRecord(api: nock.Scope, text: string, id = RECORD_RUN): void {
  api.get(`${R}/check-runs/${id}`).reply(200, recordRun(text, { id }));
}

/** The default branch's tree, as the live set reads it: the policy and these grant files. */
export function mockTree(api: nock.Scope, grantFiles: { path: string; content: string }[]): void {
  const tree = [
    { path: ".github", mode: "040000", type: "tree", sha: "d".repeat(40) },
    { path: ".github/jit-access.yml", mode: "100644", type: "blob", sha: "a".repeat(40), size: 100 },
    ...grantFiles.map((f) => ({ path: f.path, mode: "100644", type: "blob", sha: blobSha(f.content), size: f.content.length })),
  ];
  api.get(`${R}/git/trees/main`).query({ recursive: "true" }).reply(200, { sha: "t".repeat(40), url: "", truncated: false, tree });
}

/**
 * The default branch's history of a grant path, newest first: each commit (its number padded into a
 * SHA) and the merged PR GitHub associates with it — how the app finds the request behind a file.
 */
export function mockPathHistory(api: nock.Scope, path: string, commits: { pr: number; headSha: string; mergedAt?: string; base?: string }[]): void {
  const shaOf = (pr: number) => `${pr}`.padStart(40, "m");
  api.get(`${R}/commits`).query({ sha: "main", path, per_page: 5 }).reply(200, commits.map((c) => ({ sha: shaOf(c.pr) })));
  for (const c of commits) {
    api.get(`${R}/commits/${shaOf(c.pr)}/pulls`).reply(200, [{ number: c.pr, merged_at: c.mergedAt ?? "2026-11-29T13:00:00Z", base: { ref: c.base ?? "main" }, head: { sha: c.headSha } }]);
  }
}

/** Writes of the record (before each status-comment write), their texts collected in order. */
export function mockRecordWrites(api: nock.Scope, times: number, texts: string[] = []): void {
  for (let i = 0; i < times; i++) api.patch(`${R}/check-runs/${RECORD_RUN}`, (b: any) => (texts.push(b.output.text), true)).reply(200, { id: RECORD_RUN });
}

export { HEAD };

/**
 * Delivers `opened` for a request that fails its check, expecting exactly: the reads (up to the
 * given stage, plus any extra), the check run created, and a new status comment. Returns both.
 */
export async function failedRequest(probot: Probot, sc: Scenario, stage: "through-comments" | "full", extra: (api: nock.Scope) => void = () => {}) {
  const api = githubApi();
  mockInstallationToken(api);
  mockReads(api, sc, stage);
  extra(api);
  let check: any;
  api.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 1 });
  let comment: any;
  api.post(`${R}/issues/${sc.pr.number}/comments`, (b) => ((comment = b), true)).reply(201, { id: 55 });
  await deliver(probot, "pull_request", pullRequestEvent("opened", sc.pr));
  api.done();
  return { check, comment };
}

/** The issue comments, as the display lookup after a due revoke reads them (endDue scenarios). */
export function mockStatusCommentLookup(api: nock.Scope, sc: Pick<Scenario, "pr" | "comments">): void {
  api
    .get(`${R}/issues/${sc.pr.number}/comments`)
    .query({ per_page: 100 })
    .reply(
      200,
      (sc.comments ?? []).map((c) => ({
        id: c.id,
        body: c.body,
        user: { login: c.byApp ? "jit-access[bot]" : c.login, type: c.byApp ? "Bot" : "User" },
        created_at: c.createdAt ?? "2026-11-29T12:30:00Z",
        updated_at: c.updatedAt ?? c.createdAt ?? "2026-11-29T12:30:00Z",
        performed_via_github_app: c.byApp ? { id: APP_ID, slug: "jit-access" } : null,
      })),
    );
}
