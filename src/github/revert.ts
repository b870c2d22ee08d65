import { noteOwnRevert } from "./own-events.js";
import { CHECK_NAME } from "../lifecycle/status.js";
import type { GitHub, RepoRef } from "./client.js";

export interface RevertRequest {
  branch: string;
  path: string;
  /** The grant file's blob on the default branch (the contents API needs it to delete). */
  blobSha: string;
  title: string;
  body: string;
  defaultBranch: string;
  /** This app: only its own check run on the revert PR counts as already given. */
  appId: number;
}

export interface RevertOutcome {
  number: number;
  url: string;
  merged: boolean;
  /** Why the merge did not happen (branch protection, a conflict). */
  blocked?: string;
  /** Branches and PRs under the app's revert names that held something else: never merged, each said here. */
  refused?: string[];
}

export const REVERT_BLOCKED_LABEL = "jit:revert-blocked";
/** Put on a PR from one of the app's revert branches that is not exactly the deletion: the app never merges it. */
export const REVERT_REFUSED_LABEL = "jit:revert-refused";

/** Names tried in turn when a branch holds changes the app did not make (or its PR was closed); all taken is an error. */
const BRANCH_NAMES = 5;

/**
 * Times the app's revert PRs of one request may be closed unmerged before the app stops reopening
 * or replacing them. A person who closes the revert again and again means it: without a bound the
 * app reopened (or re-found) it on every sweep, for ever.
 */
export const MAX_REVERT_CLOSES = 5;

/** Thrown when every revert branch name holds someone else's changes: nothing was merged. */
export class RevertRefusedError extends Error {
  constructor(readonly refused: string[]) {
    super(`every revert branch holds changes jit-access did not make, so none was merged: ${refused.join("; ")}`);
  }
}

const status = (error: unknown) => (error as { status?: number }).status;

/** `jit-access/revert-7`, then `jit-access/revert-7-2` …: deterministic, so a retry walks the same names. */
export function revertBranchNames(branch: string): string[] {
  return Array.from({ length: BRANCH_NAMES }, (_, i) => (i === 0 ? branch : `${branch}-${i + 1}`));
}

/**
 * Whether a comparison of the default branch with a head (three dots: from their merge base) is
 * one commit deleting exactly `path`. Squash-merging such a head changes the default branch by
 * exactly that deletion, whoever made the commit; anything else is never merged by the app.
 */
export function isExactDeletion(cmp: { ahead_by: number; files?: { filename: string; status: string }[] }, path: string): boolean {
  const files = cmp.files ?? [];
  return cmp.ahead_by === 1 && files.length === 1 && files[0]!.filename === path && files[0]!.status === "removed";
}

interface FoundPull {
  number: number;
  html_url: string;
  state: string;
  merged_at: string | null;
  head: { sha: string; repo: { id?: number; full_name: string } | null };
  base: { ref: string; repo?: { id?: number } };
  labels: { name?: string }[];
}

/**
 * A PR that deletes one grant file, merged through the REST API — and nothing else: anyone with
 * write access can create `jit-access/revert-<n>` before the app does, push to it, or open a PR
 * from it. So the app merges only a head it verified to be one commit deleting exactly that file
 * (`isExactDeletion`, on the exact SHA), into the default branch, pinned to that SHA (a push after
 * the check makes GitHub refuse the merge). A branch or PR holding anything else is labelled,
 * reported (`refused`, and an alert in the log) and left alone; the app records the end on the
 * next name instead. Every step tolerates having been done before, so a retry, a redelivery or a
 * second replica finds and re-verifies the same PR instead of opening another. A blocked merge
 * leaves the PR open, labelled, and is reported, never hidden.
 */
export async function openAndMergeRevert(gh: GitHub, ref: RepoRef, r: RevertRequest, log?: { error(msg: string): void }): Promise<RevertOutcome> {
  const refused: string[] = [];
  const walk: Walk = {
    refuse(what) {
      refused.push(what);
      log?.error(`revert tampering in ${ref.owner}/${ref.repo}: ${what}`);
    },
    closes: 0,
  };
  const withRefusals = (outcome: RevertOutcome) => (refused.length > 0 ? { ...outcome, refused } : outcome);
  for (const branch of revertBranchNames(r.branch)) {
    const outcome = await onBranch(gh, ref, r, branch, walk);
    if (outcome) return withRefusals(outcome);
  }
  // Every name is spent and at least one held the app's own, closed, revert: that is the one to reopen.
  if (walk.lastClosed) return withRefusals(await giveUp(gh, ref, walk.lastClosed, `every revert branch name is used (its pull requests were closed without merging ${walk.closes} time(s))`));
  throw new RevertRefusedError(refused);
}

/** What walking the branch names has found so far. */
interface Walk {
  refuse(what: string): void;
  /** How often the app's own revert PRs were closed unmerged, on the names walked so far. */
  closes: number;
  /** The app's own revert PR last found closed unmerged. */
  lastClosed?: FoundPull;
}

/** The revert on one branch name; undefined when that name is taken by something the app will not merge, or spent. */
async function onBranch(gh: GitHub, ref: RepoRef, r: RevertRequest, branch: string, walk: Walk): Promise<RevertOutcome | undefined> {
  const refuse = walk.refuse;
  const pulls = await findPulls(gh, ref, branch);
  if (pulls.length > 0) return usePulls(gh, ref, r, branch, pulls, walk);

  let prepared;
  try {
    prepared = await prepareBranch(gh, ref, r, branch, refuse);
  } catch (error) {
    // Nothing to delete: someone already removed the file from the default branch, and git history
    // shows the end. Without this, the revert failed on every retry, for ever (found by the
    // lifecycle property test, seed 7): reported as done, with no PR (number 0).
    if (status(error) === 404 && !(await existsOn(gh, ref, r.path, r.defaultBranch))) return { number: 0, url: "", merged: true };
    throw error;
  }
  if (!prepared) return undefined;
  let pr: { number: number; html_url: string };
  try {
    ({ data: pr } = await gh.rest.pulls.create({ ...ref, head: branch, base: r.defaultBranch, title: r.title, body: r.body }));
  } catch (error) {
    // 422: another replica opened it between our look-up and now; judge what is there.
    if (status(error) !== 422) throw error;
    const again = await findPulls(gh, ref, branch);
    if (again.length === 0) throw error;
    return usePulls(gh, ref, r, branch, again, walk);
  }
  noteOwnRevert({ ...ref, number: pr.number }, prepared.sha);
  await passCheck(gh, ref, r, prepared.sha, prepared.fresh);
  return merge(gh, ref, r, pr, prepared.sha);
}

async function findPulls(gh: GitHub, ref: RepoRef, branch: string): Promise<FoundPull[]> {
  const { data } = await gh.rest.pulls.list({ ...ref, head: `${ref.owner}:${branch}`, state: "all", per_page: 100 });
  return data as FoundPull[];
}

/**
 * PRs already opened from the branch: each is verified; only a verified one is used. The app's own
 * revert, closed unmerged by someone, is reopened when its branch still points at the verified
 * deletion; otherwise the name is spent and the walk goes on to the next one. Either way the
 * closes are counted (from the PR's timeline, which nobody can edit), and past MAX_REVERT_CLOSES
 * the app stops: no reopen, no new PR, reported as blocked.
 */
async function usePulls(gh: GitHub, ref: RepoRef, r: RevertRequest, branch: string, pulls: FoundPull[], walk: Walk): Promise<RevertOutcome | undefined> {
  const refuse = walk.refuse;
  let usable: FoundPull | undefined;
  let tainted = false;
  for (const pr of pulls) {
    const why = await problemWith(gh, ref, r, pr);
    if (!why) {
      // GitHub allows one open PR per head and base; a merged one is the end already recorded.
      if (!usable || pr.merged_at || (pr.state === "open" && !usable.merged_at)) usable = pr;
      continue;
    }
    tainted = true;
    refuse(`#${pr.number} (from ${branch}) ${why}; jit-access never merges it`);
    if (pr.state === "open" && !pr.labels.some((l) => l.name === REVERT_REFUSED_LABEL)) {
      await gh.rest.issues.addLabels({ ...ref, issue_number: pr.number, labels: [REVERT_REFUSED_LABEL] });
    }
  }
  if (usable?.merged_at) return { number: usable.number, url: usable.html_url, merged: true };
  // Someone else's PR shares the branch: its head may move under ours, so the next name is used.
  if (!usable || tainted) return undefined;
  if (usable.state !== "open") {
    walk.closes += await closesOf(gh, ref, usable.number);
    walk.lastClosed = usable;
    if (walk.closes >= MAX_REVERT_CLOSES) return giveUp(gh, ref, usable, `it was closed without merging ${walk.closes} times, so jit-access no longer reopens or replaces it`);
    if (!(await reopen(gh, ref, branch, usable))) return undefined;
  }
  await passCheck(gh, ref, r, usable.head.sha, false);
  return merge(gh, ref, r, usable, usable.head.sha);
}

/** How many times a PR was closed: GitHub's own events, which nobody can edit or delete. */
async function closesOf(gh: GitHub, ref: RepoRef, number: number): Promise<number> {
  const events = (await gh.paginate(gh.rest.issues.listEventsForTimeline, { ...ref, issue_number: number, per_page: 100 })) as { event?: string }[];
  // At least one: the PR is closed, whatever the timeline says.
  return Math.max(1, events.filter((e) => e.event === "closed").length);
}

/**
 * Reopens the app's closed revert PR when its branch still points at the head that was verified
 * (`pr.head.sha`, one commit deleting the grant file). A branch that moved, was deleted or was
 * recreated is not reopened (GitHub would take whatever it holds now as the PR's head, or refuse):
 * false, and the next name gets a fresh branch. The merge that follows stays pinned to the
 * verified SHA, so a push between this check and the merge makes GitHub refuse it.
 */
async function reopen(gh: GitHub, ref: RepoRef, branch: string, pr: FoundPull): Promise<boolean> {
  try {
    const { data } = await gh.rest.git.getRef({ ...ref, ref: `heads/${branch}` });
    if (data.object.sha !== pr.head.sha) return false;
    await gh.rest.pulls.update({ ...ref, pull_number: pr.number, state: "open" });
    return true;
  } catch (error) {
    // 404: the branch is gone; 422: GitHub will not reopen it (a branch force-pushed or recreated).
    if (status(error) === 404 || status(error) === 422) return false;
    throw error;
  }
}

/** The revert stops here: the closed PR is labelled (once) and the outcome says why; no PR is opened or reopened. */
async function giveUp(gh: GitHub, ref: RepoRef, pr: FoundPull, why: string): Promise<RevertOutcome> {
  if (!pr.labels.some((l) => l.name === REVERT_BLOCKED_LABEL)) await gh.rest.issues.addLabels({ ...ref, issue_number: pr.number, labels: [REVERT_BLOCKED_LABEL] });
  return { number: pr.number, url: pr.html_url, merged: false, blocked: `${why}. Reopen and merge it, or delete the grant file from the default branch` };
}

/** Why this PR is not the app's revert (undefined: it is exactly the deletion, into the default branch). */
async function problemWith(gh: GitHub, ref: RepoRef, r: RevertRequest, pr: FoundPull): Promise<string | undefined> {
  if (pr.base.ref !== r.defaultBranch) return `targets ${pr.base.ref}, not ${r.defaultBranch}`;
  // By id where GitHub gives both (a renamed repository keeps its id; names in hand may be older).
  const sameRepo = pr.head.repo?.id !== undefined && pr.base.repo?.id !== undefined ? pr.head.repo.id === pr.base.repo.id : pr.head.repo?.full_name.toLowerCase() === `${ref.owner}/${ref.repo}`.toLowerCase();
  if (!sameRepo) return "comes from another repository";
  return (await isDeletionAt(gh, ref, r, pr.head.sha)) ? undefined : `changes more than the deletion of ${r.path} in one commit`;
}

async function isDeletionAt(gh: GitHub, ref: RepoRef, r: RevertRequest, sha: string): Promise<boolean> {
  const { data } = await gh.rest.repos.compareCommitsWithBasehead({ ...ref, basehead: `${r.defaultBranch}...${sha}`, per_page: 2 });
  return isExactDeletion(data, r.path);
}

/**
 * The branch with one commit deleting the grant file, at the SHA to merge: created from the
 * default branch's head, or — if the name exists — verified, or completed when it holds nothing
 * yet (an attempt interrupted between creating the branch and deleting the file).
 */
async function prepareBranch(gh: GitHub, ref: RepoRef, r: RevertRequest, branch: string, refuse: (what: string) => void): Promise<{ sha: string; fresh: boolean } | undefined> {
  const { data: main } = await gh.rest.git.getRef({ ...ref, ref: `heads/${r.defaultBranch}` });
  let head = main.object.sha;
  try {
    await gh.rest.git.createRef({ ...ref, ref: `refs/heads/${branch}`, sha: head });
  } catch (error) {
    if (status(error) !== 422) throw error; // 422: the name exists (an earlier attempt, another replica, or someone else)
    ({ data: { object: { sha: head } } } = await gh.rest.git.getRef({ ...ref, ref: `heads/${branch}` }));
    const { data: cmp } = await gh.rest.repos.compareCommitsWithBasehead({ ...ref, basehead: `${r.defaultBranch}...${head}`, per_page: 2 });
    if (isExactDeletion(cmp, r.path)) return { sha: head, fresh: false };
    if (cmp.ahead_by !== 0) {
      refuse(`branch ${branch} holds commits jit-access did not make (${cmp.ahead_by} ahead of ${r.defaultBranch}, ${cmp.files?.length ?? 0} file(s) changed)`);
      return undefined;
    }
  }
  try {
    const { data } = await gh.rest.repos.deleteFile({ ...ref, path: r.path, sha: r.blobSha, branch, message: r.title });
    const parents = data.commit.parents ?? [];
    // The contents API commits on the branch's head: if someone pushed first, their commit is the parent.
    if (data.commit.sha && parents.length === 1 && parents[0]!.sha === head) return { sha: data.commit.sha, fresh: true };
    refuse(`branch ${branch} moved while jit-access was writing its commit`);
    return undefined;
  } catch (error) {
    const code = status(error);
    if (code !== 404 && code !== 409 && code !== 422) throw error;
    // Written meanwhile (another replica), or the file is not there: judge what the branch holds now.
    const { data: now } = await gh.rest.git.getRef({ ...ref, ref: `heads/${branch}` });
    if (await isDeletionAt(gh, ref, r, now.object.sha)) return { sha: now.object.sha, fresh: false };
    throw error;
  }
}

/**
 * A successful `jit-access` check on the revert's head, before the merge: a repository that
 * requires the check (docs/operations/install.md) would otherwise block every revert. Found first unless the
 * commit is brand new (nobody can have given it a check yet).
 */
async function passCheck(gh: GitHub, ref: RepoRef, r: RevertRequest, sha: string, fresh: boolean): Promise<void> {
  if (!fresh) {
    const { data } = await gh.rest.checks.listForRef({ ...ref, ref: sha, check_name: CHECK_NAME, filter: "latest", per_page: 100 });
    if (data.check_runs.some((run) => run.app?.id === r.appId && run.conclusion === "success")) return;
  }
  await gh.rest.checks.create({
    ...ref,
    name: CHECK_NAME,
    head_sha: sha,
    status: "completed",
    conclusion: "success",
    output: { title: "Records the end of a grant", summary: `This pull request only deletes \`${r.path}\`, in one commit on ${r.defaultBranch}: jit-access verified that before merging it.` },
  });
}

/** Squash-merge pinned to the verified SHA. */
async function merge(gh: GitHub, ref: RepoRef, r: RevertRequest, pr: { number: number; html_url: string }, sha: string): Promise<RevertOutcome> {
  try {
    await gh.rest.pulls.merge({ ...ref, pull_number: pr.number, sha, merge_method: "squash", commit_title: `${r.title} (#${pr.number})`, commit_message: r.body });
  } catch (error) {
    // Another replica may have merged it a moment ago (GitHub answers 405 for a merged PR too).
    const { data: now } = await gh.rest.pulls.get({ ...ref, pull_number: pr.number });
    if (now.merged) return { number: pr.number, url: pr.html_url, merged: true };
    const blocked = (error as Error).message.replace(/[\r\n]+/g, " ").slice(0, 300);
    await gh.rest.issues.addLabels({ ...ref, issue_number: pr.number, labels: [REVERT_BLOCKED_LABEL] });
    return { number: pr.number, url: pr.html_url, merged: false, blocked };
  }
  // The merge call pins the head, not the base: a PR retargeted since it was opened is merged into
  // that other branch. Once merged, its base can no longer change, so this read tells for good.
  const { data: merged } = await gh.rest.pulls.get({ ...ref, pull_number: pr.number });
  if (merged.base.ref !== r.defaultBranch) {
    await gh.rest.issues.addLabels({ ...ref, issue_number: pr.number, labels: [REVERT_REFUSED_LABEL] });
    return { number: pr.number, url: pr.html_url, merged: false, blocked: `it was retargeted to ${merged.base.ref} and merged there, not into ${r.defaultBranch}; a new revert pull request follows` };
  }
  return { number: pr.number, url: pr.html_url, merged: true };
}

async function existsOn(gh: GitHub, ref: RepoRef, path: string, branch: string): Promise<boolean> {
  try {
    await gh.rest.repos.getContent({ ...ref, path, ref: branch });
    return true;
  } catch (error) {
    if (status(error) === 404) return false;
    throw error;
  }
}
