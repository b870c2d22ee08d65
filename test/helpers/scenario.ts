import type nock from "nock";
import { APP_ID } from "./app.js";
import { blobSha, contents, HEAD } from "./fixtures.js";
import { OWNER, pullRequest, REPO, type PrFields } from "./payloads.js";

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
  comments?: { id: number; login: string; body: string; byApp?: boolean; createdAt?: string }[];
  /** Grant file content at older commits that approvals were given on (null: absent). */
  contentAt?: Record<string, string | null>;
  /** `@org/team:login` → membership state; only these lookups may happen. */
  memberships?: Record<string, "active" | "pending" | "none">;
}

export function prFields(overrides: Partial<PrFields> = {}): PrFields {
  return { number: 7, author: "alice", headSha: HEAD, ...overrides };
}

/** Mocks every read the app makes while loading the snapshot of a request PR. */
export function mockReads(api: nock.Scope, sc: Scenario, stage: "policy-only" | "through-comments" | "full" = "full"): void {
  api.get(`${R}/pulls/${sc.pr.number}`).reply(200, pullRequest(sc.pr));
  const policy = api.get(`${R}/contents/${enc(".github/jit-access.yml")}`).query({ ref: "main" });
  if (sc.policy === null) {
    policy.reply(404, { message: "Not Found" });
    return;
  }
  policy.reply(200, contents(".github/jit-access.yml", sc.policy));
  api
    .get(`${R}/pulls/${sc.pr.number}/files`)
    .query({ per_page: 100 })
    .reply(
      200,
      sc.files.map((f) => ({
        sha: f.content === undefined ? "0".repeat(40) : blobSha(f.content),
        filename: f.filename,
        status: f.status,
        additions: 5,
        deletions: 0,
        changes: 5,
        ...(f.previous_filename ? { previous_filename: f.previous_filename } : {}),
      })),
    );
  if (stage === "policy-only") return;
  mockComments(api, sc);
  if (stage === "through-comments") return;
  const grant = sc.files[0]!;
  api.get(`${R}/contents/${enc(grant.filename)}`).query({ ref: sc.pr.headSha }).reply(200, contents(grant.filename, grant.content!));
}

export function mockComments(api: nock.Scope, sc: Pick<Scenario, "pr" | "comments">): void {
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
        performed_via_github_app: c.byApp ? { id: APP_ID, slug: "jit-access" } : null,
      })),
    );
}

/** The approval-related reads: CODEOWNERS on the base branch, reviews, commits, older blobs, memberships. */
export function mockApprovalReads(api: nock.Scope, sc: Scenario): void {
  const found = sc.codeowners === undefined ? { path: ".github/CODEOWNERS", text: "" } : sc.codeowners;
  for (const path of [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]) {
    const i = api.get(`${R}/contents/${enc(path)}`).query({ ref: "main" });
    if (found && found.path === path) {
      i.reply(200, contents(path, found.text));
      break;
    }
    i.reply(404, { message: "Not Found" });
  }
  api
    .get(`${R}/pulls/${sc.pr.number}/reviews`)
    .query({ per_page: 100 })
    .reply(
      200,
      (sc.reviews ?? []).map((r, i) => ({
        id: 100 + i,
        user: { login: r.login, type: r.bot ? "Bot" : "User" },
        state: r.state,
        commit_id: r.commitId ?? sc.pr.headSha,
        submitted_at: "2026-11-29T12:40:00Z",
      })),
    );
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
    );
  const grant = sc.files[0]!;
  for (const [sha, content] of Object.entries(sc.contentAt ?? {})) {
    const i = api.get(`${R}/contents/${enc(grant.filename)}`).query({ ref: sha });
    if (content === null) i.reply(404, { message: "Not Found" });
    else i.reply(200, contents(grant.filename, content));
  }
  for (const [key, state] of Object.entries(sc.memberships ?? {})) {
    const [team, login] = key.split(":") as [string, string];
    const [org, slug] = team.slice(1).split("/") as [string, string];
    const i = api.get(`/orgs/${org}/teams/${slug}/memberships/${login}`);
    if (state === "none") i.reply(404, { message: "Not Found" });
    else i.reply(200, { url: "", role: "member", state });
  }
}

export function mockCheckRuns(api: nock.Scope, sha: string, existing: Record<string, unknown>[] = []): void {
  api
    .get(`${R}/commits/${sha}/check-runs`)
    .query({ check_name: "jit-access", filter: "latest", per_page: 100 })
    .reply(200, { total_count: existing.length, check_runs: existing });
}

export { HEAD };
