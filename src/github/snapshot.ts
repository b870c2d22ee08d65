import { commitsToCompare, type MembershipLookup, type Review, type ReviewState } from "../approval/evaluate.js";
import { fileDiagnostic } from "../diagnostics.js";
import { classifyPullRequest, type ChangedFile } from "../lifecycle/classify.js";
import { decidedFromState } from "../lifecycle/merged.js";
import { membershipKey, type CommentCommand, type RequestSnapshot } from "../lifecycle/snapshot.js";
import { COMMENT_MARKER, readState, type CommentState } from "../lifecycle/state-block.js";
import { parseCodeowners, type Codeowners } from "../policy/codeowners.js";
import { parseGrant } from "../grant/parse.js";
import { checkGrantRules } from "../grant/rules.js";
import { loadPolicy, type LoadedPolicy, type PolicyResult } from "../policy/load.js";
import { CODEOWNERS_PATHS, MAX_CODEOWNERS_BYTES, MAX_GRANT_BYTES, MAX_POLICY_BYTES, POLICY_PATH } from "../policy/paths.js";
import { isNotFound, readFileAt, type GitHub, type RepoRef } from "./client.js";

export interface LoadOptions {
  /** This app's id: only its own comments are trusted to hold state. */
  appId: number;
  now: Date;
}

/**
 * Parsed policies by blob SHA. Content-addressed, so it can never be stale: a changed policy
 * has another SHA. It saves the parse (tens of ms for a large policy), not the API read.
 */
const policyCache = new Map<string, PolicyResult>();
const POLICY_CACHE_SIZE = 64;

export function loadPolicyCached(sha: string, content: Uint8Array): PolicyResult {
  const hit = policyCache.get(sha);
  if (hit) return hit;
  const result = loadPolicy(POLICY_PATH, content);
  if (policyCache.size >= POLICY_CACHE_SIZE) policyCache.delete(policyCache.keys().next().value!);
  policyCache.set(sha, result);
  return result;
}

/** The policy on a ref (default: the default branch); null when there is none (not an access repository). */
export async function loadPolicyAt(gh: GitHub, ref: RepoRef, at?: string): Promise<PolicyResult | null> {
  const file = await readFileAt(gh, { ...ref, path: POLICY_PATH, ref: at }, MAX_POLICY_BYTES);
  if (file === null) return null;
  if (file.kind === "file") return loadPolicyCached(file.sha, file.content);
  const why = file.kind === "too-large" ? `is ${file.size} bytes; the limit is ${MAX_POLICY_BYTES}` : "is not a regular file";
  return { ok: false, diagnostics: [fileDiagnostic(POLICY_PATH, `${POLICY_PATH} ${why}`)] };
}

/** CODEOWNERS from a ref, first found in GitHub's order; null when there is none. */
export async function loadCodeownersAt(gh: GitHub, ref: RepoRef, at: string): Promise<Codeowners | null> {
  for (const path of CODEOWNERS_PATHS) {
    const file = await readFileAt(gh, { ...ref, path, ref: at }, MAX_CODEOWNERS_BYTES);
    if (file === null) continue;
    if (file.kind !== "file") return { path, rules: [], problems: [fileDiagnostic(path, `${path} could not be read (${file.kind})`)] };
    return parseCodeowners(path, Buffer.from(file.content).toString("utf8"));
  }
  return null;
}

/**
 * Loads everything a decision about one pull request needs, from GitHub's current state.
 * Returns null when the repository has no policy on its default branch: not ours to judge.
 */
export async function loadRequestSnapshot(gh: GitHub, ref: RepoRef & { number: number }, options: LoadOptions): Promise<RequestSnapshot | null> {
  const { data: pr } = await gh.rest.pulls.get({ owner: ref.owner, repo: ref.repo, pull_number: ref.number });
  const defaultBranch = pr.base.repo.default_branch;
  const policy = await loadPolicyAt(gh, ref, defaultBranch);
  if (policy === null) return null;

  const { data: rawFiles } = await gh.rest.pulls.listFiles({ owner: ref.owner, repo: ref.repo, pull_number: ref.number, per_page: 100 });
  const files: ChangedFile[] = rawFiles.map((f) => ({
    path: f.filename,
    status: f.status,
    blobSha: f.sha ?? "",
    ...(f.previous_filename ? { previousPath: f.previous_filename } : {}),
  }));
  const kind = classifyPullRequest(files, pr.changed_files);
  const snapshot: RequestSnapshot = {
    owner: ref.owner,
    repo: ref.repo,
    defaultBranch,
    pr: {
      number: pr.number,
      url: pr.html_url,
      author: pr.user.login,
      state: pr.state === "closed" ? "closed" : "open",
      merged: pr.merged,
      draft: pr.draft ?? false,
      headSha: pr.head.sha,
      baseRef: pr.base.ref,
      fromFork: pr.head.repo?.full_name !== pr.base.repo.full_name,
      createdAt: pr.created_at,
      labels: pr.labels.map((l) => l.name),
    },
    kind,
    policy,
    reviews: [],
    contributors: [],
    blobAt: new Map(),
    memberships: new Map(),
    commands: [],
  };
  if (kind.kind === "unrelated" || kind.kind === "removal") return snapshot;

  if (kind.kind === "policy-change") {
    snapshot.proposedPolicy = (await loadPolicyAt(gh, ref, pr.head.sha)) ?? { ok: false, diagnostics: [fileDiagnostic(POLICY_PATH, "the policy file is missing at the head")] };
    return snapshot;
  }

  await loadComments(gh, ref, options.appId, snapshot);
  if (kind.kind !== "request" || snapshot.pr.fromFork) return snapshot;
  if (snapshot.pr.state === "closed" && !snapshot.pr.merged) return snapshot;
  // A merged request whose verdict the state block already records needs nothing more.
  if (snapshot.pr.merged && decidedFromState(snapshot.comment?.state)) return snapshot;

  const grant = await readFileAt(gh, { ...ref, path: kind.file.path, ref: pr.head.sha }, MAX_GRANT_BYTES);
  if (grant === null || grant.kind !== "file" || grant.sha !== kind.file.blobSha) {
    snapshot.kind = { kind: "malformed", diagnostics: [fileDiagnostic(kind.file.path, grantReadProblem(grant, MAX_GRANT_BYTES))] };
    return snapshot;
  }
  snapshot.grantContent = grant.content;
  if (!policy.ok) return snapshot;

  // Approvals only matter for a grant that passes the rules; an invalid one costs no more reads.
  if (passesOfflineRules(snapshot, policy.policy, kind.file.path)) {
    snapshot.codeowners = await loadCodeownersAt(gh, ref, pr.base.ref);
    snapshot.reviews = await loadReviews(gh, ref);
    snapshot.contributors = await loadContributors(gh, ref);
    for (const sha of commitsToCompare({ reviews: snapshot.reviews, headSha: pr.head.sha })) {
      const file = await readFileAt(gh, { ...ref, path: kind.file.path, ref: sha }, MAX_GRANT_BYTES);
      snapshot.blobAt.set(sha, file?.kind === "file" ? file.sha : null);
    }
  }
  return snapshot;
}

/** The grant's schema and rules, minus what needs GitHub (the requester allow-list). */
function passesOfflineRules(s: RequestSnapshot, policy: LoadedPolicy, path: string): boolean {
  const parsed = parseGrant(path, s.grantContent!);
  return parsed.ok && checkGrantRules(parsed, policy, { author: s.pr.author, requestedAt: new Date(s.pr.createdAt) }).diagnostics.length === 0;
}

function grantReadProblem(file: Awaited<ReturnType<typeof readFileAt>>, max: number): string {
  if (file === null) return "the grant file could not be found at the head commit";
  if (file.kind === "too-large") return `file is ${file.size} bytes; the limit is ${max} bytes`;
  if (file.kind === "not-a-file") return "the grant path is not a regular file (a symlink or submodule?)";
  return "the grant file changed while it was being read; it will be checked again";
}

async function loadReviews(gh: GitHub, ref: RepoRef & { number: number }): Promise<Review[]> {
  const reviews = await gh.paginate(gh.rest.pulls.listReviews, { owner: ref.owner, repo: ref.repo, pull_number: ref.number, per_page: 100 });
  return reviews
    .filter((r) => r.user && r.commit_id)
    .map((r) => ({ login: r.user!.login, isBot: r.user!.type === "Bot", state: r.state as ReviewState, commitId: r.commit_id! }));
}

/** Authors and committers GitHub linked to accounts. GitHub lists at most 250 commits; a request has one or two. */
async function loadContributors(gh: GitHub, ref: RepoRef & { number: number }): Promise<string[]> {
  const commits = await gh.paginate(gh.rest.pulls.listCommits, { owner: ref.owner, repo: ref.repo, pull_number: ref.number, per_page: 100 });
  const logins = new Set<string>();
  for (const c of commits) {
    if (c.author?.login) logins.add(c.author.login);
    if (c.committer?.login && c.committer.login !== "web-flow") logins.add(c.committer.login);
  }
  return [...logins];
}

const COMMAND = /^\/jit\s+(reject|revoke)\b[ \t]*(.*)$/m;

/** This app's status comment (trusted only when GitHub says this app wrote it) and `/jit` commands. */
async function loadComments(gh: GitHub, ref: RepoRef & { number: number }, appId: number, snapshot: RequestSnapshot): Promise<void> {
  const comments = await gh.paginate(gh.rest.issues.listComments, { owner: ref.owner, repo: ref.repo, issue_number: ref.number, per_page: 100 });
  const commands: CommentCommand[] = [];
  for (const c of comments) {
    const body = c.body ?? "";
    const ours = c.performed_via_github_app?.id === appId;
    if (isStatusComment(c, appId) && !snapshot.comment) {
      snapshot.comment = { id: c.id, body, state: readState(body) };
      continue;
    }
    if (ours || !c.user || c.user.type === "Bot") continue;
    const match = COMMAND.exec(body.trim());
    if (match && body.trim().startsWith("/jit")) {
      commands.push({ id: c.id, login: c.user.login, command: match[1] as "reject" | "revoke", reason: (match[2] ?? "").trim().slice(0, 500), createdAt: c.created_at });
    }
  }
  snapshot.commands = commands;
}

/** More lookups than any real request needs (groups × reviewers); beyond it, unknown counts as "not a member". */
export const MAX_MEMBERSHIP_LOOKUPS = 60;

/**
 * Team memberships, fetched lazily: the decision runs with a lookup that notes the first
 * (team, login) pair it does not know yet; that one is fetched and the decision runs again,
 * until it needs nothing new. Fetching one pair per round keeps the count minimal (a rule that
 * is settled by the first group never asks about the second), and every rule that needs
 * memberships is written once, in the pure core. Re-deciding costs microseconds; requests are
 * the scarce resource.
 */
export async function resolveMemberships(gh: GitHub, snapshot: RequestSnapshot, decideWith: (lookup: MembershipLookup) => unknown): Promise<void> {
  for (let lookups = 0; lookups < MAX_MEMBERSHIP_LOOKUPS; lookups++) {
    let wanted: [string, string] | undefined;
    decideWith((team, login) => {
      const key = membershipKey(team, login);
      if (!snapshot.memberships.has(key)) wanted ??= [team, login];
      return snapshot.memberships.get(key);
    });
    if (!wanted) return;
    snapshot.memberships.set(membershipKey(...wanted), await isActiveMember(gh, ...wanted));
  }
}

/** `@org/team`: an active member (a pending invitation or a 404 is not membership). */
async function isActiveMember(gh: GitHub, team: string, login: string): Promise<boolean> {
  const [org, slug] = team.replace(/^@/, "").split("/") as [string, string];
  try {
    const { data } = await gh.rest.teams.getMembershipForUserInOrg({ org, team_slug: slug, username: login });
    return data.state === "active";
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * The state block of this app's status comment on a PR (only comments GitHub says this app
 * wrote). The CLI, which only displays, does not know the app's id: `appId` undefined accepts a
 * status comment written by any GitHub App, never one written by a person.
 */
export async function readStatusState(gh: GitHub, ref: RepoRef & { number: number }, appId: number | undefined): Promise<CommentState | undefined> {
  const comments = await gh.paginate(gh.rest.issues.listComments, { owner: ref.owner, repo: ref.repo, issue_number: ref.number, per_page: 100 });
  const ours = comments.find((c) => isStatusComment(c, appId));
  return ours ? readState(ours.body ?? "") : undefined;
}

/** A status comment written by this app (`appId`), or — `appId` undefined — by any GitHub App; never by a person. */
function isStatusComment(c: { body?: string | null; performed_via_github_app?: { id: number } | null }, appId: number | undefined): boolean {
  const app = c.performed_via_github_app?.id;
  return (appId === undefined ? app !== undefined : app === appId) && (c.body ?? "").startsWith(COMMENT_MARKER);
}
