import { fullName, type FakeCheckRun, type FakeComment, type FakePull, type FakeRepo, type FakeReview } from "./model.js";

/**
 * Response bodies in GitHub's shapes (the fields the app and its tests read, named and nested
 * as GitHub does). Webhook payloads reuse them, as GitHub's do.
 */
const API = "https://api.github.com";
const WEB = "https://github.com";

export interface AppIdentity {
  id: number;
  slug: string;
}

/**
 * Accounts that renamed their login (new login, lowercased → the account's id): GitHub keeps an
 * account's id through a rename. Module state, as ids are a pure function of the login otherwise;
 * a test names a renamed login so that nobody else has it.
 */
const renamedAccounts = new Map<string, number>();

/** A login rename as GitHub records it: the new login keeps the account's id. */
export function renameAccount(from: string, to: string): void {
  renamedAccounts.set(to.toLowerCase(), accountId(from));
}

function accountId(login: string): number {
  return renamedAccounts.get(login.toLowerCase()) ?? idOf(login);
}

export function user(login: string): Record<string, unknown> {
  const bot = login.endsWith("[bot]");
  return { login, id: accountId(login), type: bot ? "Bot" : "User", site_admin: false, html_url: `${WEB}/${login}` };
}

export function repository(repo: FakeRepo): Record<string, unknown> {
  return {
    id: repo.id,
    name: repo.name,
    full_name: fullName(repo),
    owner: user(repo.owner),
    private: true,
    archived: repo.archived,
    default_branch: repo.defaultBranch,
    html_url: `${WEB}/${fullName(repo)}`,
    url: `${API}/repos/${fullName(repo)}`,
  };
}

export function pull(repo: FakeRepo, pr: FakePull): Record<string, unknown> {
  const base = repo.git.resolve(pr.baseRef);
  const head = repo.git.commits.get(pr.headSha);
  const ancestor = base && head ? repo.git.mergeBase(head.sha, base.sha) : undefined;
  const files = head ? repo.git.diff(ancestor, head) : [];
  return {
    url: `${API}/repos/${fullName(repo)}/pulls/${pr.number}`,
    html_url: `${WEB}/${fullName(repo)}/pull/${pr.number}`,
    number: pr.number,
    state: pr.state,
    title: pr.title,
    body: pr.body,
    user: user(pr.author),
    labels: pr.labels.map((name) => ({ id: idOf(name), name, color: "ededed", default: false })),
    draft: pr.draft,
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    closed_at: pr.closedAt,
    merged_at: pr.mergedAt,
    merged: pr.merged,
    merged_by: pr.mergedBy ? user(pr.mergedBy) : null,
    merge_commit_sha: pr.mergeCommitSha,
    changed_files: files.length,
    head: { label: `${repo.owner}:${pr.headRef}`, ref: pr.headRef, sha: pr.headSha, user: user(repo.owner), repo: repository(repo) },
    base: { label: `${repo.owner}:${pr.baseRef}`, ref: pr.baseRef, sha: base?.sha ?? "", user: user(repo.owner), repo: repository(repo) },
  };
}

export function review(pr: FakePull, r: FakeReview): Record<string, unknown> {
  return { id: r.id, user: user(r.login), state: r.state, commit_id: r.commitId, submitted_at: r.submittedAt, body: "", pull_request_url: `${API}/pulls/${pr.number}` };
}

export function comment(repo: FakeRepo, pr: FakePull, c: FakeComment, app: AppIdentity): Record<string, unknown> {
  return {
    id: c.id,
    html_url: `${WEB}/${fullName(repo)}/pull/${pr.number}#issuecomment-${c.id}`,
    issue_url: `${API}/repos/${fullName(repo)}/issues/${pr.number}`,
    body: c.body,
    user: user(c.login),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    author_association: c.appId ? "NONE" : "MEMBER",
    performed_via_github_app: c.appId ? { id: c.appId, slug: c.appId === app.id ? app.slug : `app-${c.appId}` } : null,
  };
}

export function checkRun(repo: FakeRepo, run: FakeCheckRun, app: AppIdentity): Record<string, unknown> {
  return {
    id: run.id,
    name: run.name,
    head_sha: run.headSha,
    external_id: run.externalId,
    status: run.status,
    conclusion: run.conclusion,
    url: `${API}/repos/${fullName(repo)}/check-runs/${run.id}`,
    output: { ...run.output, annotations_count: 0 },
    app: { id: run.appId, slug: run.appId === app.id ? app.slug : `app-${run.appId}` },
  };
}

export function searchItem(repo: FakeRepo, pr: FakePull): Record<string, unknown> {
  return {
    number: pr.number,
    title: pr.title,
    state: pr.state,
    user: user(pr.author),
    labels: pr.labels.map((name) => ({ name })),
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    html_url: `${WEB}/${fullName(repo)}/pull/${pr.number}`,
    repository_url: `${API}/repos/${fullName(repo)}`,
    pull_request: { url: `${API}/repos/${fullName(repo)}/pulls/${pr.number}`, merged_at: pr.mergedAt },
  };
}

/** A stable numeric id for a name (users, labels, a repository's first name). */
export function idOf(name: string): number {
  let h = 7;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 1_000_000_007;
  return h;
}
