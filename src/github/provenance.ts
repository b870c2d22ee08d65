import type { PolicyProvenance } from "../lifecycle/snapshot.js";
import { MAX_CODEOWNERS_BYTES, MAX_POLICY_BYTES, POLICY_PATH } from "../policy/paths.js";
import { readFileAt, type GitHub, type RepoRef } from "./client.js";
import { loadCheck } from "./record.js";

/**
 * Policy provenance (docs: security model): the policy and CODEOWNERS that judge requests must
 * have reached the default branch through a pull request whose head carries this app's successful
 * `jit-access` check. Otherwise anyone who can push to the default branch (or merge around the
 * check) could rewrite who approves what, and every request after would be judged by that.
 */

/** A file on the default branch that judges requests, and its blob SHA there. */
export interface JudgingFile {
  path: string;
  blobSha: string;
}

/**
 * Blobs of a repository found to have come through an approved pull request: `owner/repo\0path\0blob`.
 * Content-addressed, so never stale (a changed file has another blob), and only positive verdicts
 * are kept: a refusal is checked again on every evaluation, so the fix (an approved PR, or the
 * operator's vouching) takes effect at once.
 */
const trustedBlobs = new Set<string>();
const TRUSTED_CACHE_SIZE = 256;

/** Trusted verdicts by default-branch commit (`repoId@sha`): while it has not moved, they still hold. */
const trustedAt = new Map<string, PolicyProvenance>();

/** A new process starts with no verdicts (tests start each case so). */
export function resetProvenanceCache(): void {
  trustedBlobs.clear();
  trustedAt.clear();
}

/** The verdict at a default-branch commit: known (trusted) or checked now; without a key, always checked. */
export async function provenanceAt(key: string | undefined, check: () => Promise<PolicyProvenance>): Promise<PolicyProvenance> {
  const known = key === undefined ? undefined : trustedAt.get(key);
  if (known) return known;
  const verdict = await check();
  if (verdict.trusted && key !== undefined) {
    if (trustedAt.size >= TRUSTED_CACHE_SIZE) trustedAt.delete(trustedAt.keys().next().value!);
    trustedAt.set(key, verdict);
  }
  return verdict;
}

/**
 * The default branch moved from one commit to the next without touching the judging files (one
 * commit: their last commits are the same, see judging-moves.ts): a trusted verdict at `from` holds at `to`.
 */
export function carryProvenance(from: string, to: string): void {
  const known = trustedAt.get(from);
  if (!known || trustedAt.has(to)) return;
  if (trustedAt.size >= TRUSTED_CACHE_SIZE) trustedAt.delete(trustedAt.keys().next().value!);
  trustedAt.set(to, known);
}

/**
 * JIT_TRUSTED_POLICY_SHAS: blob SHAs of policy or CODEOWNERS contents an operator vouches for. The
 * bootstrap escape: a repository whose policy came with its first commit, or before the app was
 * installed, has no approved pull request to point to. Read at each use, so it is never cached.
 */
export function vouchedBlobs(env: NodeJS.ProcessEnv = process.env): Set<string> {
  return new Set((env.JIT_TRUSTED_POLICY_SHAS ?? "").split(",").map((s) => s.trim().toLowerCase()).filter((s) => /^[0-9a-f]{40}$/.test(s)));
}

/**
 * Whether each judging file came to the default branch through a pull request this app approved.
 * One read per file (its last commit on the default branch: content pushed back after an approved
 * change has a new last commit, so nothing trusted before vouches for it); three more per file
 * whose (content, last commit) is not known yet, fewer when files share their last commit. What an
 * operator vouches for (JIT_TRUSTED_POLICY_SHAS) is a commit of the file (it stops counting when the
 * file changes again), or a content while the file has never changed since it was added (the
 * bootstrap): never a way back to old content after an approved change.
 */
export async function loadPolicyProvenance(gh: GitHub, ref: RepoRef & { repoId: number }, defaultBranch: string, files: readonly JudgingFile[], appId: number): Promise<PolicyProvenance> {
  const vouched = vouchedBlobs();
  const commitVerdicts = new Map<string, { number: number; head: string } | { why: string }>();
  for (const file of files) {
    const refused = (why: string, commit?: string): PolicyProvenance => ({ trusted: false, path: file.path, blobSha: file.blobSha, why, ...(commit ? { commit } : {}) });
    const { data: commits } = await gh.rest.repos.listCommits({ owner: ref.owner, repo: ref.repo, sha: defaultBranch, path: file.path, per_page: 2 });
    const last = commits[0]?.sha;
    if (!last) return refused("GitHub lists no commit of it");
    const key = `${ref.repoId}\u0000${file.path}\u0000${file.blobSha}\u0000${last}`;
    if (trustedBlobs.has(key)) continue;
    // Vouched: this very commit of the file, or its content while the file has never changed since it was added.
    if (vouched.has(last.toLowerCase()) || (vouched.has(file.blobSha.toLowerCase()) && commits.length === 1)) continue;
    const verdict = await provenanceOf(gh, ref, file, last, appId, commitVerdicts, defaultBranch);
    if (!verdict.trusted) return verdict;
    if (trustedBlobs.size >= TRUSTED_CACHE_SIZE) trustedBlobs.delete(trustedBlobs.values().next().value!);
    trustedBlobs.add(key);
  }
  return { trusted: true };
}

async function provenanceOf(gh: GitHub, ref: RepoRef & { repoId: number }, file: JudgingFile, commit: string, appId: number, commitVerdicts: Map<string, { number: number; head: string } | { why: string }>, defaultBranch: string): Promise<PolicyProvenance> {
  const refused = (why: string, commit?: string): PolicyProvenance => ({ trusted: false, path: file.path, blobSha: file.blobSha, why, ...(commit ? { commit } : {}) });
  // The blob is bound to that commit: a merge landing between the two reads must not vouch for
  // content it replaced (the verdict is cached by blob).
  const at = await readFileAt(gh, { ...ref, path: file.path, ref: commit }, file.path === POLICY_PATH ? MAX_POLICY_BYTES : MAX_CODEOWNERS_BYTES);
  if (at?.kind !== "file" || at.sha !== file.blobSha) return refused("it changed while it was being checked; it is checked again on the next event", commit);
  if (!commitVerdicts.has(commit)) commitVerdicts.set(commit, await approvedPullOf(gh, ref, defaultBranch, commit, appId));
  const verdict = commitVerdicts.get(commit)!;
  if ("why" in verdict) return refused(verdict.why, commit);
  // What the app approved is the PR's head: a squash merge also carries lines pushed to the default
  // branch meanwhile (GitHub merges line by line), which nobody approved. The content must be the head's.
  const approved = await readFileAt(gh, { ...ref, path: file.path, ref: verdict.head }, file.path === POLICY_PATH ? MAX_POLICY_BYTES : MAX_CODEOWNERS_BYTES);
  if (approved?.kind !== "file" || approved.sha !== file.blobSha) return refused(`its content is not what #${verdict.number} held at the head jit-access approved (changes made outside that pull request were merged with it)`, commit);
  return { trusted: true };
}

/** The pull request this app approved that `commit` merged (its number and head), or why there is none. */
async function approvedPullOf(gh: GitHub, ref: RepoRef & { repoId: number }, defaultBranch: string, commit: string, appId: number): Promise<{ number: number; head: string } | { why: string }> {
  const { data: pulls } = await gh.rest.repos.listPullRequestsAssociatedWithCommit({ owner: ref.owner, repo: ref.repo, commit_sha: commit });
  const merged = pulls.filter((p) => p.merged_at && p.base.ref === defaultBranch);
  if (merged.length === 0) return { why: "pushed directly, not merged from a pull request" };
  for (const pr of merged) {
    // The PR's own run (external_id), newest first, by this app only: another app or a person cannot write it.
    const { run } = await loadCheck(gh, { ...ref, number: pr.number }, pr.head.sha, appId);
    if (run?.status === "completed" && run.conclusion === "success") return { number: pr.number, head: pr.head.sha };
  }
  return { why: `merged from ${merged.map((p) => `#${p.number}`).join(", ")} without jit-access's successful check on its head` };
}
