import { commitsToCompare, type MembershipLookup, type Review, type ReviewState } from "../approval/evaluate.js";
import { fileDiagnostic } from "../diagnostics.js";
import { classifyPullRequest, type ChangedFile } from "../lifecycle/classify.js";
import { judgedOffDefaultBranch } from "../lifecycle/base-branch.js";
import { extendedRequest, extensionCandidates, isExtensionOf, MAX_EXTENSION_LINKS, type Mention } from "../lifecycle/extension.js";
import { decidedFromState } from "../lifecycle/record.js";
import { mergeCommands, parseCommand } from "../lifecycle/commands.js";
import type { PolicyProvenance } from "../lifecycle/snapshot.js";
import { membershipKey, type CheckRun, type CommentCommand, type RequestSnapshot } from "../lifecycle/snapshot.js";
import { COMMENT_MARKER, readState, type CommentState } from "../lifecycle/codec.js";
import { ownersOf, parseCodeowners, type Codeowners } from "../policy/codeowners.js";
import { parseGrant } from "../grant/parse.js";
import { checkGrantRules } from "../grant/rules.js";
import { loadPolicy, type LoadedPolicy, type PolicyResult } from "../policy/load.js";
import { CODEOWNERS_PATHS, MAX_CODEOWNERS_BYTES, MAX_GRANT_BYTES, MAX_POLICY_BYTES, POLICY_PATH } from "../policy/paths.js";
import { isNotFound, readFileAt, type GitHub, type RepoRef } from "./client.js";
import { carryProvenance, loadPolicyProvenance, provenanceAt, type JudgingFile } from "./provenance.js";
import { judgingMoveBetween } from "./judging-moves.js";
import { resetOwnEvents } from "./own-events.js";
import { plan } from "../plan/plan.js";
import { readDirectory, readLiveGrants, teamsToRead } from "./plan-inputs.js";
import { loadCheck, type RecordRef } from "./record.js";
import { fixedRead, resetFixedReads } from "./fixed-reads.js";
import { isActiveMember, readTeamMembers, type TeamMembers } from "./team-members.js";

export interface LoadOptions {
  /**
   * This app's id: only its own comments are trusted to hold state. Undefined for the CLI, which
   * only reads and does not know the id: any GitHub App's status comment (never a person's).
   */
  appId: number | undefined;
  now: Date;
  /**
   * Read the default branch's head first (one ref read, conditional) and take its policy and
   * CODEOWNERS from the cache when that commit was read before (`JudgingFiles`). The app does; the
   * CLI, one evaluation per process, reads them at the branch name as before.
   */
  cache?: boolean;
  /** The pull request as just read (an evaluation that checked it first): not read again. */
  pr?: PullRequestData;
  /**
   * Read who committed to a request even when no review needs it (`jit inbox` leaves out the
   * requests I committed to). By default the commits are read only when a review can count.
   */
  contributors?: "always";
  /**
   * The default branch's commit an evaluation earlier in this turn judged at (it merged this
   * request): if the branch moved from there without touching the judging files, they (and their
   * provenance, after one commit) are carried over instead of read again (JudgingFiles.carryFrom).
   */
  movedFrom?: string;
  /**
   * What an evaluation earlier in this turn knew of this PR at `headSha` (it merged the request,
   * pinned to that head): its files, who committed to it (when its approvals were read), and its
   * record's check run as that evaluation left it. Used only when the PR read now has that head
   * and is merged; otherwise each is read.
   */
  sameHead?: { headSha: string; files: ChangedFile[]; contributors?: string[]; check?: CheckRun };
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
  return (await loadPolicyFileAt(gh, ref, at))?.policy ?? null;
}

/** The policy on a ref, and its blob SHA when it is a readable file (what provenance is checked for). */
async function loadPolicyFileAt(gh: GitHub, ref: RepoRef, at?: string): Promise<{ policy: PolicyResult; blobSha?: string } | null> {
  const file = await readFileAt(gh, { ...ref, path: POLICY_PATH, ref: at }, MAX_POLICY_BYTES);
  if (file === null) return null;
  if (file.kind === "file") return { policy: loadPolicyCached(file.sha, file.content), blobSha: file.sha };
  const why = file.kind === "too-large" ? `is ${file.size} bytes; the limit is ${MAX_POLICY_BYTES}` : "is not a regular file";
  return { policy: { ok: false, diagnostics: [fileDiagnostic(POLICY_PATH, `${POLICY_PATH} ${why}`)] } };
}

type PolicyFile = { policy: PolicyResult; blobSha?: string } | null;
type CodeownersFile = { codeowners: Codeowners; blobSha?: string } | null;

/**
 * The policy and CODEOWNERS of a repository's default branch, by commit: `repoId@sha` → each file
 * as read at that commit (read when first wanted, and a read in progress is shared). A commit's
 * content never changes, so a hit can never hide a changed policy: a push moves the branch to
 * another commit, which the one ref read per evaluation sees, and which is read afresh. Bounded;
 * the oldest commit goes first. A failed read is forgotten (tried again next time).
 */
interface JudgingEntry {
  policy?: Promise<PolicyFile>;
  codeowners?: Promise<CodeownersFile>;
}
const judgingByCommit = new Map<string, JudgingEntry>();
const JUDGING_COMMITS = 128;
/**
 * The default branch's head as last read, by repository id, with GitHub's ETag for it: the next
 * read is conditional, and GitHub's 304 (the branch has not moved) does not count against the
 * installation's rate limit. Only the ETag GitHub gave for that very ref is sent.
 */
const headByRepo = new Map<number, { branch: string; etag: string; sha: string }>();

/** Forgets every commit's files and every head read, and what this process learnt of requests' histories and ends (tests: each starts from an empty cache). */
export function resetJudgingFileCache(): void {
  judgingByCommit.clear();
  headByRepo.clear();
  commentCursors.clear();
  largeTeams.clear();
  resetFixedReads();
  resetOwnEvents();
}

/**
 * The files that judge requests on a repository's default branch, for one evaluation: at the head
 * commit through the cache (`head` known), or at the branch name, uncached.
 */
class JudgingFiles {
  private constructor(
    private readonly gh: GitHub,
    private readonly ref: RepoRef,
    /** What the contents are read at: the head commit, or the branch's name. */
    private readonly at: string,
    /** The cache key (`repoId@sha`), when cached. */
    private readonly key: string | undefined,
  ) {}

  /** Uncached: the branch name, read as it is now, every time. */
  static atBranch(gh: GitHub, ref: RepoRef, branch: string): JudgingFiles {
    return new JudgingFiles(gh, ref, branch, undefined);
  }

  /** The branch's head commit (one ref read, conditional); null when the branch does not exist. */
  static async atHead(gh: GitHub, ref: RepoRef, repoId: number, branch: string): Promise<JudgingFiles | null> {
    const sha = await headOf(gh, ref, repoId, branch);
    return sha === null ? null : new JudgingFiles(gh, ref, sha, `${repoId}@${sha}`);
  }

  /** The default branch's commit these files are read at; undefined when read at the branch's name (uncached). */
  get commit(): string | undefined {
    return this.key === undefined ? undefined : this.at;
  }

  /**
   * The branch moved here from `previous`, whose files are cached: one compare (judging-moves.ts)
   * and, when the move left the judging files alone, their cached reads are this commit's too —
   * settled reads only; nothing is carried when anything is uncertain, so the files are read.
   */
  async carryFrom(previous: string | undefined): Promise<void> {
    if (this.key === undefined || previous === undefined || previous === this.at || judgingByCommit.has(this.key)) return;
    const from = `${this.key.slice(0, this.key.indexOf("@"))}@${previous}`;
    const known = judgingByCommit.get(from);
    if (!known?.policy) return;
    const [policy, codeowners] = await Promise.all([known.policy.catch(() => undefined), known.codeowners?.catch(() => undefined)]);
    if (policy === undefined) return;
    const move = await judgingMoveBetween(this.gh, this.ref, previous, this.at);
    if (move === undefined || judgingByCommit.has(this.key)) return;
    if (judgingByCommit.size >= JUDGING_COMMITS) judgingByCommit.delete(judgingByCommit.keys().next().value!);
    judgingByCommit.set(this.key, { policy: Promise.resolve(policy), ...(codeowners !== undefined ? { codeowners: Promise.resolve(codeowners) } : {}) });
    if (move === "files-and-history") carryProvenance(from, this.key);
  }

  /** The judging files' provenance at this commit (github/provenance.ts keeps trusted verdicts by commit). */
  provenance(check: () => Promise<PolicyProvenance>): Promise<PolicyProvenance> {
    return provenanceAt(this.key, check);
  }

  policy(): Promise<PolicyFile> {
    return this.cached("policy", () => loadPolicyFileAt(this.gh, this.ref, this.at));
  }

  codeowners(): Promise<CodeownersFile> {
    return this.cached("codeowners", () => loadCodeownersFileAt(this.gh, this.ref, this.at));
  }

  private cached<K extends keyof JudgingEntry>(kind: K, read: () => NonNullable<JudgingEntry[K]>): NonNullable<JudgingEntry[K]> {
    if (this.key === undefined) return read();
    let entry = judgingByCommit.get(this.key);
    if (!entry) {
      if (judgingByCommit.size >= JUDGING_COMMITS) judgingByCommit.delete(judgingByCommit.keys().next().value!);
      entry = {};
      judgingByCommit.set(this.key, entry);
    }
    const known = entry[kind];
    if (known) return known;
    const reading = read();
    entry[kind] = reading;
    reading.catch(() => {
      if (judgingByCommit.get(this.key!)?.[kind] === reading) delete judgingByCommit.get(this.key!)![kind];
    });
    return reading;
  }
}

/** The commit a branch points at now: a conditional ref read when its ETag is known; null when there is no such branch. */
async function headOf(gh: GitHub, ref: RepoRef, repoId: number, branch: string): Promise<string | null> {
  const known = headByRepo.get(repoId);
  const conditional = known?.branch === branch ? known : undefined;
  try {
    const { data, headers } = await gh.rest.git.getRef({ owner: ref.owner, repo: ref.repo, ref: `heads/${branch}`, ...(conditional ? { headers: { "if-none-match": conditional.etag } } : {}) });
    const sha = data.object.sha;
    headByRepo.delete(repoId);
    if (headers.etag) {
      if (headByRepo.size >= JUDGING_COMMITS) headByRepo.delete(headByRepo.keys().next().value!);
      headByRepo.set(repoId, { branch, etag: headers.etag, sha });
    }
    return sha;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (conditional && status === 304) return conditional.sha; // not moved since that read
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** CODEOWNERS from a ref, first found in GitHub's order; null when there is none. */
export async function loadCodeownersAt(gh: GitHub, ref: RepoRef, at: string): Promise<Codeowners | null> {
  return (await loadCodeownersFileAt(gh, ref, at))?.codeowners ?? null;
}

/** CODEOWNERS from a ref, and its blob SHA when it is a readable file. */
async function loadCodeownersFileAt(gh: GitHub, ref: RepoRef, at: string): Promise<{ codeowners: Codeowners; blobSha?: string } | null> {
  for (const path of CODEOWNERS_PATHS) {
    const file = await readFileAt(gh, { ...ref, path, ref: at }, MAX_CODEOWNERS_BYTES);
    if (file === null) continue;
    if (file.kind !== "file") return { codeowners: { path, rules: [], problems: [fileDiagnostic(path, `${path} could not be read (${file.kind})`)] } };
    return { codeowners: parseCodeowners(path, Buffer.from(file.content).toString("utf8")), blobSha: file.sha };
  }
  return null;
}

/**
 * Loads everything a decision about one pull request needs, from GitHub's current state.
 * Returns null when the repository has no policy on its default branch: not ours to judge.
 */
export type PullRequestData = Awaited<ReturnType<GitHub["rest"]["pulls"]["get"]>>["data"];

export async function readPullRequest(gh: GitHub, ref: RepoRef & { number: number }): Promise<PullRequestData> {
  return (await gh.rest.pulls.get({ owner: ref.owner, repo: ref.repo, pull_number: ref.number })).data;
}

export async function loadRequestSnapshot(gh: GitHub, ref: RepoRef & { number: number }, options: LoadOptions): Promise<RequestSnapshot | null> {
  const pr = options.pr ?? (await readPullRequest(gh, ref));
  const defaultBranch = pr.base.repo.default_branch;
  const judging = options.cache ? await JudgingFiles.atHead(gh, ref, pr.base.repo.id, defaultBranch) : JudgingFiles.atBranch(gh, ref, defaultBranch);
  if (judging === null) return null; // no default branch: nothing on it, no policy
  await judging.carryFrom(options.movedFrom);
  const policyFile = await judging.policy();
  if (policyFile === null) return null;
  const policy = policyFile.policy;

  // Every page (GitHub lists at most 3,000 files): a file past the first page is still judged,
  // and a PR with more files than listed fails closed (classifyPullRequest).
  // What the PR changes, and who committed to it, are fixed by its head, its base and where the
  // default branch is (github/fixed-reads.ts): read once per such triple in a process. The merged
  // request's evaluation in the approval's turn has another base and default commit (the merge
  // moved them) but the head that approval judged: what it read there is this triple's too, so
  // neither this evaluation nor the merge's own webhook reads them again.
  const known = options.sameHead && options.sameHead.headSha === pr.head.sha && pr.merged ? options.sameHead : undefined;
  const pullKey = judging.commit === undefined ? undefined : `${pr.base.repo.id}#${ref.number}\u0000${pr.head.sha}\u0000${pr.base.sha}\u0000${judging.commit}`;
  if (known && pullKey) {
    void fixedRead(`files\u0000${pullKey}`, async () => known.files);
    if (known.contributors) void fixedRead(`commits\u0000${pullKey}`, async () => known.contributors!);
  }
  const files = known && !pullKey ? known.files.slice() : (await fixedRead(pullKey && `files\u0000${pullKey}`, async () => (await gh.paginate(gh.rest.pulls.listFiles, { owner: ref.owner, repo: ref.repo, pull_number: ref.number, per_page: 100 })).map(toChangedFile))).slice();
  const kind = classifyPullRequest(files, pr.changed_files);
  const extended = extendedRequest(pr.body);
  const snapshot: RequestSnapshot = {
    owner: ref.owner,
    repo: ref.repo,
    repoId: pr.base.repo.id,
    defaultBranch,
    ...(judging.commit ? { judgedAt: judging.commit } : {}),
    files,
    pr: {
      number: pr.number,
      url: pr.html_url,
      author: pr.user.login,
      authorId: pr.user.id,
      state: pr.state === "closed" ? "closed" : "open",
      merged: pr.merged,
      draft: pr.draft ?? false,
      headSha: pr.head.sha,
      baseRef: pr.base.ref,
      fromFork: pr.head.repo?.full_name !== pr.base.repo.full_name,
      createdAt: pr.created_at,
      labels: pr.labels.map((l) => l.name),
      ...(pr.merged_at ? { mergedAt: pr.merged_at } : {}),
      reopened: false,
      ...(extended !== undefined ? { extends: extended } : {}),
    },
    kind,
    policy,
    reviews: [],
    contributors: [],
    blobAt: new Map(),
    memberships: new Map(),
    commands: [],
  };
  if (kind.kind === "unrelated") return snapshot;
  if (kind.kind === "removal") {
    // An open deletion into another branch gets a failing check (base-branch.ts): the run it may
    // already have is read, so a redelivery or the next push does not add another. Others get none.
    if (snapshot.pr.state === "open" && judgedOffDefaultBranch(snapshot)) {
      const { run } = await loadCheck(gh, { ...ref, repoId: snapshot.repoId }, pr.head.sha, options.appId);
      if (run) snapshot.check = run;
    }
    return snapshot;
  }
  // A closed policy change gates nothing: its check is neither read nor written (decidePolicyChange).
  if (kind.kind === "policy-change" && snapshot.pr.state === "closed") return snapshot;

  // A merged PR's head is claimed by no other (claimedBy counts only while open): the run this turn left is its record.
  const { run, claimedBy } = known?.check ? { run: known.check, claimedBy: undefined } : await loadCheck(gh, { ...ref, repoId: snapshot.repoId }, pr.head.sha, options.appId);
  if (run) snapshot.check = run;
  if (claimedBy !== undefined && !pr.merged) snapshot.headClaimedBy = claimedBy;
  const record = run ? readState(run.text) : undefined;
  if (record) snapshot.record = record;

  if (kind.kind === "policy-change") {
    await loadPolicyChange(gh, ref, snapshot, { policyFile: kind.file, headDiff: files, policyBlobOnDefault: policyFile.blobSha, appId: options.appId, judging, now: options.now });
    return snapshot;
  }

  // A grant due to end is revoked before anything unbounded is read: its timeline (which the
  // requester can inflate with comments) decides nothing about an end that is already due, and
  // its status comment is looked up after the revoke, when the display is written.
  if (snapshot.pr.merged && dueToEnd(record, options.now) && !judgedOffDefaultBranch(snapshot)) {
    snapshot.displayUnread = true;
    return snapshot;
  }
  // A merged request whose verdict is recorded reads only the timeline's first page (the app's status
  // comment) and its newest pages (recent commands): its requester can fill it with comments, and
  // every evaluation (a label put back, say) would otherwise read them all. Open requests read it whole.
  const timeline = await loadTimeline(gh, ref, options.appId, snapshot, snapshot.pr.merged && decidedFromState(record));
  if (!record && snapshot.comment) {
    // Only "requested" is carried over: a person could write anything there, and a break-glass
    // announcement must never be silenced by an edited comment (a new head announces it again).
    if (readState(snapshot.comment.body)?.notified?.includes("requested")) snapshot.notifiedBefore = ["requested"];
  }
  // Not into the default branch: refused on its base alone, so nothing more is read.
  if (judgedOffDefaultBranch(snapshot)) return snapshot;
  // Another request's head: refused on that alone (see judgeRequest).
  if (snapshot.headClaimedBy !== undefined) return snapshot;
  if (kind.kind !== "request" || snapshot.pr.fromFork) return snapshot;
  if (snapshot.pr.state === "closed" && !snapshot.pr.merged) return snapshot;
  // Rejected is final (invariant 7): nothing about the request can change that, so nothing more is read.
  if (!snapshot.pr.merged && record?.status === "REJECTED") return snapshot;
  // A merged request whose verdict the record already holds needs nothing more, except to know
  // whether its grant file is still on the default branch (a merged deletion ends it early).
  const onDefaultBranch = async (path: string) => (await readFileAt(gh, { ...ref, path, ref: defaultBranch }, MAX_GRANT_BYTES)) !== null;
  if (snapshot.pr.merged && decidedFromState(record)) {
    // Live, or approved and not yet applied: a grant whose file left the default branch ends (or never starts).
    const live = record?.status === "APPROVED" && options.now.getTime() < Date.parse(record.expires_at ?? "");
    if ((live || record?.status === "SCHEDULED" || record?.status === "APPLYING") && (record?.path ?? kind.file.path)) {
      snapshot.grantOnDefaultBranch = await onDefaultBranch(record?.path ?? kind.file.path);
    }
    if (live) snapshot.extensions = await verifiedExtensions(gh, { ...ref, repoId: snapshot.repoId }, record!, snapshot.mentionedBy ?? [], options.appId);
    return snapshot;
  }

  const grant = await grantAt(gh, { ...ref, repoId: snapshot.repoId }, kind.file.path, pr.head.sha);
  if (grant === null || grant.kind !== "file" || grant.sha !== kind.file.blobSha) {
    snapshot.kind = { kind: "malformed", diagnostics: [fileDiagnostic(kind.file.path, grantReadProblem(grant, MAX_GRANT_BYTES))] };
    return snapshot;
  }
  snapshot.grantContent = grant.content;
  if (!policy.ok) return snapshot;

  // Approvals only matter for a grant that passes the rules; an invalid one costs no more reads.
  if (passesOfflineRules(snapshot, policy.policy, kind.file.path)) {
    const codeowners = await judging.codeowners(); // the default branch's = the base's: other bases stopped above
    snapshot.codeowners = codeowners?.codeowners ?? null;
    // An open request is judged only by a policy and CODEOWNERS that came through a PR this app
    // approved (decided in lifecycle/provenance.ts). The CLI, which only displays, does not know
    // the app's id and so cannot tell its check from another app's: it does not ask.
    // A merged request handled for the first time is judged by them too: merging does not launder them.
    // The CLI (no cache: one evaluation a process) only displays: `jit inbox` shows what waits, and
    // the app's own check says whether the policy is trusted.
    if (options.appId !== undefined && options.cache) {
      const provenance = await judging.provenance(() => loadPolicyProvenance(gh, { ...ref, repoId: snapshot.repoId }, defaultBranch, judgingFiles(policyFile.blobSha, codeowners), options.appId!));
      snapshot.policyProvenance = provenance;
      if (!provenance.trusted) return snapshot; // refused on that alone: approvals are not read
    }
    // The reviews come with the timeline when it was read whole (every request that gets this far);
    // the reviews list is read only when it was not.
    const { reviews, authorOf } = timeline.reviews ?? (await loadReviewsWithIds(gh, ref));
    snapshot.reviews = reviews;
    snapshot.dismissedChangeRequests = timeline.dismissals.flatMap((d) => {
      const reviewer = authorOf.get(d.reviewId);
      return reviewer ? [{ reviewer, dismissedBy: d.dismissedBy }] : [];
    });
    if (options.contributors === "always" || mayCount(reviews)) snapshot.contributors = await fixedRead(pullKey && `commits\u0000${pullKey}`, () => loadContributors(gh, ref));
    const compared = commitsToCompare({ reviews: snapshot.reviews, headSha: pr.head.sha });
    const blobs = await Promise.all(compared.map((sha) => grantAt(gh, { ...ref, repoId: snapshot.repoId }, kind.file.path, sha)));
    for (const [i, sha] of compared.entries()) snapshot.blobAt.set(sha, blobs[i]?.kind === "file" ? blobs[i].sha : null);
  }
  // Merged, first handled now: its file may already have been deleted again (a webhook was lost).
  if (snapshot.pr.merged && !record?.status?.match(/^(REJECTED|REVOKED|EXECUTED)$/)) snapshot.grantOnDefaultBranch = await onDefaultBranch(kind.file.path);
  return snapshot;
}

/** A grant file as it is at a commit (a commit SHA, never a branch name): the same answer every time, so read once. */
function grantAt(gh: GitHub, ref: RepoRef & { repoId: number }, path: string, commit: string): ReturnType<typeof readFileAt> {
  return fixedRead(`file\u0000${ref.repoId}\u0000${commit}\u0000${path}`, () => readFileAt(gh, { ...ref, path, ref: commit }, MAX_GRANT_BYTES));
}

/**
 * A policy change (docs/reference/approvals.md, "Policy changes"): the proposed policy at the head, checked against the blob
 * GitHub lists for the PR as a grant is (a CODEOWNERS-only change leaves the default branch's
 * policy, which is what is validated); then, only when it is valid and CODEOWNERS of the default
 * branch gives the policy owners, what counting their approvals needs. An approval of an older
 * commit counts only if the PR's whole diff there equals the head's. A closed PR needs nothing:
 * its check no longer gates anything.
 */
async function loadPolicyChange(
  gh: GitHub,
  ref: RepoRef & { number: number },
  snapshot: RequestSnapshot,
  change: { policyFile: ChangedFile | undefined; headDiff: readonly ChangedFile[]; policyBlobOnDefault: string | undefined; appId: number | undefined; judging: JudgingFiles; now: Date },
): Promise<void> {
  const { policyFile, headDiff, policyBlobOnDefault, appId, judging } = change;
  if (snapshot.pr.state === "closed") return;
  if (policyFile) {
    const file = await readFileAt(gh, { ...ref, path: POLICY_PATH, ref: snapshot.pr.headSha }, MAX_POLICY_BYTES);
    snapshot.proposedPolicy = proposedPolicyOf(file, policyFile.blobSha);
  } else {
    snapshot.proposedPolicy = snapshot.policy;
  }
  if (!snapshot.proposedPolicy.ok) return;
  const codeowners = await judging.codeowners();
  snapshot.codeowners = codeowners?.codeowners ?? null;
  if (!snapshot.codeowners || ownersOf(snapshot.codeowners, POLICY_PATH).owners.length === 0) return; // fails closed on that alone
  // The CODEOWNERS that says who approves this change must itself have come through an approved
  // change: otherwise a pushed CODEOWNERS could approve its way into trust (provenance is inductive).
  if (appId !== undefined) {
    const provenance = await judging.provenance(() => loadPolicyProvenance(gh, { ...ref, repoId: snapshot.repoId }, snapshot.defaultBranch, judgingFiles(policyBlobOnDefault, codeowners), appId));
    snapshot.policyProvenance = provenance;
    if (!provenance.trusted) return;
  }
  snapshot.reviews = await loadReviews(gh, ref);
  if (mayCount(snapshot.reviews)) snapshot.contributors = await loadContributors(gh, ref);
  snapshot.sameDiffAt = new Map();
  for (const sha of commitsToCompare({ reviews: snapshot.reviews, headSha: snapshot.pr.headSha })) {
    snapshot.sameDiffAt.set(sha, await sameDiffAt(gh, ref, snapshot.pr.baseRef, sha, headDiff));
  }
  await loadPlanInputs(gh, ref, snapshot, appId, change.now);
}

/**
 * What the access plan needs besides the default branch's files: CODEOWNERS as the head has it
 * (when the PR touches one), then the team directory and the live grants, each only when the plan
 * would use it (github/plan-inputs.ts).
 */
async function loadPlanInputs(gh: GitHub, ref: RepoRef, snapshot: RequestSnapshot, appId: number | undefined, now: Date): Promise<void> {
  if (snapshot.kind.kind !== "policy-change" || !snapshot.proposedPolicy?.ok) return;
  if (snapshot.kind.codeowners.length > 0) snapshot.proposedCodeowners = await loadCodeownersAt(gh, ref, snapshot.pr.headSha);
  const before = snapshot.policy.ok ? snapshot.policy.policy : undefined;
  const after = snapshot.proposedPolicy.policy;
  const codeowners = [snapshot.codeowners, snapshot.proposedCodeowners === undefined ? snapshot.codeowners : snapshot.proposedCodeowners];
  const draft = plan(before, codeowners[0], after, codeowners[1]);
  const teams = teamsToRead(draft, [before, after], codeowners);
  if (teams.length > 0) snapshot.directory = await readDirectory(gh, teams);
  if (appId !== undefined && draft.narrowed.length > 0) {
    const live = await readLiveGrants(gh, { ...ref, repoId: snapshot.repoId }, { defaultBranch: snapshot.defaultBranch, appId, now });
    if (live) snapshot.liveGrants = live;
  }
}

/**
 * The files on the default branch that judge requests and policy changes, by blob: the policy and
 * the CODEOWNERS file in force. One that is not a readable file judges nothing (the policy is then
 * broken, CODEOWNERS gives no owners: both fail closed on their own).
 */
function judgingFiles(policyBlob: string | undefined, codeowners: { codeowners: Codeowners; blobSha?: string } | null): JudgingFile[] {
  return [
    ...(policyBlob ? [{ path: POLICY_PATH, blobSha: policyBlob }] : []),
    ...(codeowners?.blobSha ? [{ path: codeowners.codeowners.path, blobSha: codeowners.blobSha }] : []),
  ];
}

/** GitHub's compare lists at most this many files; a diff that reaches it is not known whole. */
const MAX_COMPARED_FILES = 300;

/**
 * Whether the PR's diff at `sha` (from the merge base with `base`, as the PR's own file list is)
 * equals `headDiff`, file by file: path, status, blob and former path. A policy approval is of
 * everything the PR changes (a CODEOWNERS line pushed next to an approved policy edit must not
 * keep the approval), so an older commit counts only when nothing at all differs.
 */
async function sameDiffAt(gh: GitHub, ref: RepoRef, base: string, sha: string, headDiff: readonly ChangedFile[]): Promise<boolean> {
  let files;
  try {
    ({ data: { files } } = await gh.rest.repos.compareCommitsWithBasehead({ owner: ref.owner, repo: ref.repo, basehead: `${base}...${sha}`, per_page: 1 }));
  } catch (error) {
    if (isNotFound(error)) return false; // the commit is gone (force-pushed away): nothing to compare
    throw error;
  }
  if (!files || files.length >= MAX_COMPARED_FILES || files.length !== headDiff.length) return false;
  const key = (f: ChangedFile) => JSON.stringify([f.path, f.status, f.blobSha, f.previousPath ?? null]);
  const head = new Set(headDiff.map(key));
  return files.every((f) => head.has(key(toChangedFile(f))));
}

function toChangedFile(f: { filename: string; status: ChangedFile["status"]; sha?: string | null; previous_filename?: string }): ChangedFile {
  return { path: f.filename, status: f.status, blobSha: f.sha ?? "", ...(f.previous_filename ? { previousPath: f.previous_filename } : {}) };
}

function proposedPolicyOf(file: Awaited<ReturnType<typeof readFileAt>>, listedBlob: string): PolicyResult {
  const problem = (message: string): PolicyResult => ({ ok: false, diagnostics: [fileDiagnostic(POLICY_PATH, message)] });
  if (file === null) return problem("the policy file is missing at the head");
  if (file.kind === "too-large") return problem(`${POLICY_PATH} is ${file.size} bytes; the limit is ${MAX_POLICY_BYTES}`);
  if (file.kind === "not-a-file") return problem(`${POLICY_PATH} is not a regular file`);
  // Approvals are counted against the listed blob: what is validated must be that same content.
  if (file.sha !== listedBlob) return problem("the policy file changed while it was being read; it is checked again on the next push");
  return loadPolicyCached(file.sha, file.content);
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

interface RawReview {
  id: number;
  user: { login: string; type?: string } | null;
  state: string;
  commit_id?: string | null;
}

/** Reviews, and who wrote each (by id): a dismissed review's author, for the timeline's dismissals. */
async function loadReviewsWithIds(gh: GitHub, ref: RepoRef & { number: number }): Promise<{ reviews: Review[]; authorOf: Map<number, string> }> {
  return reviewsWithIds(await gh.paginate(gh.rest.pulls.listReviews, { owner: ref.owner, repo: ref.repo, pull_number: ref.number, per_page: 100 }));
}

function reviewsWithIds(raw: readonly RawReview[]): { reviews: Review[]; authorOf: Map<number, string> } {
  const authorOf = new Map(raw.filter((r) => r.user).map((r) => [r.id, r.user!.login] as const));
  return { reviews: toReviews(raw), authorOf };
}

async function loadReviews(gh: GitHub, ref: RepoRef & { number: number }): Promise<Review[]> {
  return (await loadReviewsWithIds(gh, ref)).reviews;
}

function toReviews(raw: readonly RawReview[]): Review[] {
  return raw
    .filter((r) => r.user && r.commit_id)
    .map((r) => ({ login: r.user!.login, isBot: r.user!.type === "Bot", state: r.state as ReviewState, commitId: r.commit_id! }));
}

/**
 * Whether who committed to the PR can matter: only an approval or a change request is screened
 * against the contributors (approval/evaluate.ts), so a request nobody has reviewed that way yet
 * (every request when it is opened) does not read its commits.
 */
function mayCount(reviews: readonly Review[]): boolean {
  return reviews.some((r) => r.state === "APPROVED" || r.state === "CHANGES_REQUESTED");
}

/** Whether a snapshot's contributors were read (an empty list otherwise says nothing). */
export function contributorsRead(snapshot: Pick<RequestSnapshot, "reviews">): boolean {
  return mayCount(snapshot.reviews);
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


interface TimelineItem {
  event?: string;
  actor?: { login: string } | null;
  dismissed_review?: { state?: string; review_id?: number } | null;
  id?: number;
  body?: string | null;
  user?: { login: string; type?: string } | null;
  created_at?: string;
  updated_at?: string;
  performed_via_github_app?: { id: number } | null;
  /** A `reviewed` event's review: its state (GitHub writes it in lower case here) and the commit it reviewed. */
  state?: string;
  commit_id?: string | null;
  /** A `cross-referenced` event's source: the issue or PR that mentions this one. */
  source?: { issue?: { number: number; user?: { login: string } | null; pull_request?: unknown; repository?: { full_name: string } } };
}

/**
 * The PR's timeline, one paginated read: this app's status comment (a display), `/jit` commands,
 * the reviews, and whether the PR was ever reopened. Timeline events cannot be edited or deleted
 * by anyone. A command counts only as first written: a comment edited since (its `updated_at`
 * moved) is ignored, as policy-bot ignores edited comments, so nobody can turn an old remark into
 * a command that seems to predate the grant.
 *
 * Reviews are the timeline's `reviewed` events (policy-bot, too, reads them from the timeline):
 * the same id, author, state and commit as the reviews list, so a request costs one read less.
 * A review that a `review_dismissed` event names is dismissed whatever state its own event shows.
 * Only a whole timeline gives them (`reviews` is undefined after a bounded read).
 */
interface Timeline {
  /** The change requests dismissed (review id, who dismissed it): the reviews name their authors. */
  dismissals: { reviewId: number; dismissedBy: string }[];
  reviews?: { reviews: Review[]; authorOf: Map<number, string> };
}

async function loadTimeline(gh: GitHub, ref: RepoRef & { number: number }, appId: number | undefined, snapshot: RequestSnapshot, bounded = false): Promise<Timeline> {
  const read = bounded ? await boundedTimeline(gh, ref) : { items: (await gh.paginate(gh.rest.issues.listEventsForTimeline, { owner: ref.owner, repo: ref.repo, issue_number: ref.number, per_page: 100 })) as TimelineItem[], skipped: false };
  const items = read.items;
  const commands: CommentCommand[] = [];
  const dismissals: { reviewId: number; dismissedBy: string }[] = [];
  const dismissed = new Set<number>();
  const reviewed: RawReview[] = [];
  const mentionedBy: Mention[] = [];
  for (const c of items) {
    if (c.event === "reopened") snapshot.pr.reopened = true;
    const mention = c.event === "cross-referenced" ? c.source?.issue : undefined;
    if (mention?.pull_request && mention.user && mention.repository?.full_name.toLowerCase() === `${ref.owner}/${ref.repo}`.toLowerCase()) {
      mentionedBy.push({ number: mention.number, author: mention.user.login });
    }
    if (c.event === "reviewed" && c.id !== undefined) reviewed.push({ id: c.id, user: c.user ?? null, state: (c.state ?? "").toUpperCase(), commit_id: c.commit_id ?? null });
    if (c.event === "review_dismissed" && c.dismissed_review?.review_id !== undefined) {
      dismissed.add(c.dismissed_review.review_id);
      if (c.dismissed_review.state?.toLowerCase() === "changes_requested") dismissals.push({ reviewId: c.dismissed_review.review_id, dismissedBy: c.actor?.login ?? "" });
    }
    if (c.event !== "commented" || c.id === undefined) continue;
    const body = c.body ?? "";
    const ours = appId === undefined ? !!c.performed_via_github_app : c.performed_via_github_app?.id === appId;
    if (isStatusComment(c, appId) && !snapshot.comment) {
      snapshot.comment = { id: c.id, body };
      continue;
    }
    if (ours || !c.user || c.user.type === "Bot") continue;
    if (c.updated_at && c.created_at && c.updated_at !== c.created_at) continue;
    const parsed = parseCommand(body);
    if (parsed) commands.push({ id: c.id, login: c.user.login, ...parsed, createdAt: c.created_at ?? "" });
  }
  snapshot.commands = read.skipped ? mergeCommands(commands, await commandsSinceCursor(gh, ref, snapshot, appId)) : commands;
  if (mentionedBy.length > 0) snapshot.mentionedBy = mentionedBy;
  if (bounded) return { dismissals };
  const reviews = reviewed.map((r) => (dismissed.has(r.id) ? { ...r, state: "DISMISSED" } : r));
  return { dismissals, reviews: reviewsWithIds(reviews) };
}

/**
 * Where the comments of a merged request were last read up to (the newest `updated_at` seen), by
 * `repoId#number`: a long timeline's middle pages are skipped, and its commands are read from the
 * comments instead, each only once per process (from the merge on after a restart). Advanced only
 * when an evaluation that read them completes (see commitCommentCursor).
 */
const commentCursors = new Map<string, string>();
const COMMENT_CURSORS = 10_000;

/** `/jit` commands among the comments written or changed since the cursor (or the merge). Unedited ones only, as in the timeline. */
async function commandsSinceCursor(gh: GitHub, ref: RepoRef & { number: number }, snapshot: RequestSnapshot, appId: number | undefined): Promise<CommentCommand[]> {
  const key = `${snapshot.repoId}#${ref.number}`;
  const since = commentCursors.get(key) ?? snapshot.pr.mergedAt ?? snapshot.pr.createdAt;
  const comments = await gh.paginate(gh.rest.issues.listComments, { owner: ref.owner, repo: ref.repo, issue_number: ref.number, since, per_page: 100 });
  const commands: CommentCommand[] = [];
  let newest = since;
  for (const c of comments) {
    if (c.updated_at > newest) newest = c.updated_at;
    const ours = appId === undefined ? !!c.performed_via_github_app : c.performed_via_github_app?.id === appId;
    if (ours || !c.user || c.user.type === "Bot" || c.updated_at !== c.created_at) continue;
    const parsed = parseCommand(c.body ?? "");
    if (parsed) commands.push({ id: c.id, login: c.user.login, ...parsed, createdAt: c.created_at });
  }
  snapshot.commentCursor = { key, at: newest };
  return commands;
}

/** The evaluation that read comments up to the cursor completed: later ones start from there. */
export function commitCommentCursor(snapshot: RequestSnapshot): void {
  if (!snapshot.commentCursor) return;
  if (commentCursors.size >= COMMENT_CURSORS) commentCursors.delete(commentCursors.keys().next().value!);
  commentCursors.set(snapshot.commentCursor.key, snapshot.commentCursor.at);
}

/** Newest pages read besides the first by a bounded timeline read (at most 300 items in all). */
const TIMELINE_TAIL_PAGES = 2;

/** The timeline's first page and its newest TIMELINE_TAIL_PAGES pages: at most three requests, however long it is. */
async function boundedTimeline(gh: GitHub, ref: RepoRef & { number: number }): Promise<{ items: TimelineItem[]; skipped: boolean }> {
  const params = { owner: ref.owner, repo: ref.repo, issue_number: ref.number, per_page: 100 };
  const first = await gh.rest.issues.listEventsForTimeline(params);
  const link = first.headers.link ?? "";
  const items = [...(first.data as TimelineItem[])];
  const lastPage = /<([^>]*)>;\s*rel="last"/.exec(link)?.[1];
  // More pages but no way to tell how many (no `last` link): only the first is read, and the
  // commands come from the comments.
  if (!lastPage) return { items, skipped: /rel="next"/.test(link) };
  const last = Number(new URL(lastPage).searchParams.get("page") ?? 1);
  const from = Math.max(2, last - TIMELINE_TAIL_PAGES + 1);
  for (let page = from; page <= last; page++) {
    items.push(...((await gh.rest.issues.listEventsForTimeline({ ...params, page })).data as TimelineItem[]));
  }
  // Pages between the first and the newest were not read: their commands come from the comments.
  return { items, skipped: from > 2 };
}

/**
 * A live grant's extensions: those its record links, checked again (one may have been rejected
 * since), and the requester's PRs mentioning it that are not linked yet — each by its own record
 * (two requests: its head, then this app's check run there). Only a few new ones per evaluation:
 * a PR that merely mentions the grant is looked at again next time, at the same small cost.
 */
async function verifiedExtensions(gh: GitHub, ref: RecordRef, original: CommentState, mentionedBy: readonly Mention[], appId: number | undefined): Promise<number[]> {
  const found: number[] = [];
  if (!original.grant) return found;
  const linked = (original.extended_by ?? []).slice(0, MAX_EXTENSION_LINKS);
  for (const number of [...linked, ...extensionCandidates(ref.number, original.grant.requester, mentionedBy, linked)]) {
    const { data: pr } = await gh.rest.pulls.get({ owner: ref.owner, repo: ref.repo, pull_number: number });
    const { run } = await loadCheck(gh, { ...ref, number }, pr.head.sha, appId);
    if (isExtensionOf(original, run ? readState(run.text) : undefined)) found.push(number);
  }
  return found;
}

/** More lookups than any real request needs (groups × reviewers); beyond it, unknown counts as "not a member". */
export const MAX_MEMBERSHIP_LOOKUPS = 60;

/**
 * Team memberships, fetched lazily: the decision runs with a lookup that notes the first
 * (team, login) pair it does not know yet; that one is answered and the decision runs again,
 * until it needs nothing new. So a rule settled by the first group never asks about the second,
 * and every rule that needs memberships is written once, in the pure core. Re-deciding costs
 * microseconds; requests are the scarce resource.
 *
 * A pair is answered from its team's member list (github/team-members.ts: one request per team
 * and evaluation, a 304 once read), or, for a team larger than a page, by a lookup of that person.
 * `lists` are the member lists read so far: the CLI's inbox shares them across its requests.
 */
export async function resolveMemberships(gh: GitHub, snapshot: RequestSnapshot, decideWith: (lookup: MembershipLookup) => unknown, lists = new Map<string, TeamMembers>()): Promise<void> {
  for (let lookups = 0; lookups < MAX_MEMBERSHIP_LOOKUPS; lookups++) {
    let wanted: [string, string] | undefined;
    decideWith((team, login) => {
      const key = membershipKey(team, login);
      if (!snapshot.memberships.has(key)) wanted ??= [team, login];
      return snapshot.memberships.get(key);
    });
    if (!wanted) return;
    const [team, login] = wanted;
    snapshot.memberships.set(membershipKey(team, login), await isMember(gh, lists, team, login));
  }
}

/** Teams known to be larger than a page of members (their pairs are looked up one by one); bounded. */
const largeTeams = new Set<string>();
const LARGE_TEAMS = 1_000;

async function isMember(gh: GitHub, lists: Map<string, TeamMembers>, team: string, login: string): Promise<boolean> {
  const name = team.toLowerCase();
  let members = lists.get(name) ?? (largeTeams.has(name) ? "large" : undefined);
  if (members === undefined) {
    members = await readTeamMembers(gh, name);
    if (members === "large") {
      if (largeTeams.size >= LARGE_TEAMS) largeTeams.delete(largeTeams.values().next().value!);
      largeTeams.add(name);
    }
  }
  lists.set(name, members);
  return members === "large" ? isActiveMember(gh, name, login) : members.has(login.toLowerCase());
}

/**
 * The state block of this app's status comment on a PR (only comments GitHub says this app
 * wrote). The CLI, which only displays, does not know the app's id: `appId` undefined accepts a
 * status comment written by any GitHub App, never one written by a person.
 */
/** A recorded grant whose access may be live and whose end is due (its window passed, or an end is decided). */
function dueToEnd(record: CommentState | undefined, now: Date): boolean {
  const mayHold = !!record?.target && (record.status === "APPROVED" || (record.status === "APPLYING" && record.standing !== undefined));
  return mayHold && (!!record!.ending || now.getTime() + DUE_SOON_MS >= Date.parse(record!.expires_at ?? ""));
}

/**
 * An end this close is due. The scheduler reads a due grant's snapshot up to 10 s (its lead) before
 * the end; the margin is wider so that a snapshot read early for any reason (a retry, a busy queue)
 * still revokes first and reads no timeline. A `/jit revoke` in a grant's last minute is then known
 * from its signed delivery (HeardCommands) rather than the timeline; the grant ends within the
 * minute either way.
 */
const DUE_SOON_MS = 60_000;

/** This app's status comment on a PR, looked up when the snapshot did not read the timeline. */
export async function findStatusComment(gh: GitHub, ref: RepoRef & { number: number }, appId: number | undefined): Promise<{ id: number; body: string } | undefined> {
  const comments = await gh.paginate(gh.rest.issues.listComments, { owner: ref.owner, repo: ref.repo, issue_number: ref.number, per_page: 100 });
  const ours = comments.find((c) => isStatusComment(c, appId));
  return ours ? { id: ours.id, body: ours.body ?? "" } : undefined;
}

export async function readStatusState(gh: GitHub, ref: RepoRef & { number: number }, appId: number | undefined): Promise<CommentState | undefined> {
  const ours = await findStatusComment(gh, ref, appId);
  return ours ? readState(ours.body) : undefined;
}

/** A status comment written by this app (`appId`), or — `appId` undefined — by any GitHub App; never by a person. */
function isStatusComment(c: { body?: string | null; performed_via_github_app?: { id: number } | null }, appId: number | undefined): boolean {
  const app = c.performed_via_github_app?.id;
  return (appId === undefined ? app !== undefined : app === appId) && (c.body ?? "").startsWith(COMMENT_MARKER);
}

/**
 * CODEOWNERS for judging a `/jit reject` on an open request that was not read for its approvals
 * (an invalid request reads none): its path's owners may veto it all the same (lifecycle/judge.ts).
 * One read, only when there is a command to judge.
 */
export async function loadVetoOwners(gh: GitHub, snapshot: RequestSnapshot): Promise<void> {
  if (snapshot.kind.kind !== "request" || snapshot.pr.state !== "open" || snapshot.codeowners !== undefined) return;
  if (!snapshot.commands.some((c) => c.command === "reject")) return;
  snapshot.codeowners = await loadCodeownersAt(gh, { owner: snapshot.owner, repo: snapshot.repo }, snapshot.defaultBranch);
}
