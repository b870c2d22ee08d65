import { decide } from "../lifecycle/decide.js";
import { membershipKey, type RequestSnapshot } from "../lifecycle/snapshot.js";
import type { GitHub, RepoRef } from "../github/client.js";
import { execute } from "../github/execute.js";
import { loadRequestSnapshot, resolveMemberships } from "../github/snapshot.js";
import { findLiveGrantByPath } from "../github/live-grants.js";
import type { CommentState } from "../lifecycle/state-block.js";
import type { ProviderFactory } from "../providers/registry.js";
import type { LiveGrantLister } from "../github/live-grants.js";
import type { Notifier } from "../notify/deliver.js";

export interface AppDeps {
  appId: number;
  /** The clock, injectable so tests control time. */
  now: () => Date;
  providers: ProviderFactory;
  /** Other live grants of a repository; defaults to a search (benchmarks replace it). */
  liveGrants?: LiveGrantLister;
  /** Slack and Teams; without it nothing is announced. */
  notifier?: Notifier;
  /** Bookkeeping after a revoke waits its turn here (the scheduler's bursts); none elsewhere. */
  gate?: () => Promise<() => void>;
}

export interface Log {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/**
 * snapshot → decide → act, for one pull request. Every event that may change a request comes
 * here. Returns the grant's state as it was left (for the scheduler's index of live grants).
 */
export async function evaluatePullRequest(
  gh: GitHub,
  ref: RepoRef & { number: number },
  deps: AppDeps,
  log: Log,
  deletedBy?: { number: number; author: string },
): Promise<CommentState | undefined> {
  const snapshot = await prepareEvaluation(gh, ref, deps);
  if (!snapshot) return undefined; // no policy on the default branch: not an access repository
  if (deletedBy) snapshot.deletedBy = deletedBy;
  // Into another branch, a deletion ends nothing: the grant file is still on the default branch.
  if (snapshot.kind.kind === "removal" && snapshot.pr.merged && snapshot.pr.baseRef === snapshot.defaultBranch) {
    // A merged PR that deletes grant files ends those grants early; the PR itself needs nothing.
    for (const file of snapshot.kind.files) {
      const live = await findLiveGrantByPath(gh, ref, file.path, deps.appId);
      if (live !== undefined && live !== ref.number) await evaluatePullRequest(gh, { ...ref, number: live }, deps, log, { number: ref.number, author: snapshot.pr.author });
    }
    return undefined;
  }
  return finishEvaluation(gh, snapshot, deps, log);
}

/** The snapshot: everything the decision needs, read from GitHub now. */
export async function prepareEvaluation(gh: GitHub, ref: RepoRef & { number: number }, deps: AppDeps): Promise<RequestSnapshot | null> {
  return loadRequestSnapshot(gh, ref, { appId: deps.appId, now: deps.now() });
}

/**
 * Decide and act on a snapshot, at the clock's current time. The scheduler prepares snapshots
 * of grants about to expire a few seconds early and finishes them at the exact moment, so the
 * revoke does not wait for the reads.
 */
export async function finishEvaluation(gh: GitHub, snapshot: RequestSnapshot, deps: AppDeps, log: Log): Promise<CommentState | undefined> {
  const now = deps.now();
  const lookup = (team: string, login: string) => snapshot.memberships.get(membershipKey(team, login));
  await resolveMemberships(gh, snapshot, (l) => decide(snapshot, now, l));
  const decision = decide(snapshot, now, lookup);
  return execute(gh, snapshot, decision, {
    appId: deps.appId,
    now: deps.now,
    providers: deps.providers,
    log,
    ...(deps.liveGrants ? { liveGrants: deps.liveGrants } : {}),
    ...(deps.notifier ? { notifier: deps.notifier } : {}),
    ...(deps.gate ? { gate: deps.gate } : {}),
  });
}
