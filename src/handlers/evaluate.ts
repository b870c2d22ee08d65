import { decide, type Decision } from "../lifecycle/decide.js";
import { originalToRecheck } from "../lifecycle/extension.js";
import { membershipKey, type RequestSnapshot } from "../lifecycle/snapshot.js";
import type { GitHub, RepoRef } from "../github/client.js";
import { execute, type Executed } from "../github/execute.js";
import type { TeamMembers } from "../github/team-members.js";
import { commitCommentCursor, contributorsRead, loadRequestSnapshot, loadVetoOwners, readPullRequest, resolveMemberships, type LoadOptions, type PullRequestData } from "../github/snapshot.js";
import { requestsThatAddedAt } from "../github/grant-origin.js";
import { endRecordedBy, noteMergeSeen } from "../github/own-events.js";
import type { CommentState } from "../lifecycle/codec.js";
import type { ProviderFactory } from "../providers/registry.js";
import type { LiveGrantLister } from "../github/live-grants.js";
import type { Log } from "../logging.js";
import type { PersonLock } from "../github/person-lock.js";
import type { Notifier } from "../notify/deliver.js";
import { slackViewOf, type SlackRequestView } from "../present/slack.js";
import { mergeCommands } from "../lifecycle/commands.js";
import type { HeardCommands } from "./heard-commands.js";
import { KeyedQueue } from "./queue.js";

export type { Log } from "../logging.js";

export interface AppDeps {
  appId: number;
  /** The clock, injectable so tests control time. */
  now: () => Date;
  providers: ProviderFactory;
  /** Other live grants of a repository; defaults to a search (benchmarks replace it). */
  liveGrants?: LiveGrantLister;
  /** Slack and Teams; without it nothing is announced. */
  notifier?: Notifier;
  /** The Slack app's one message per request, brought up to date after each evaluation (never throws). */
  slackMessages?: { sync(view: SlackRequestView | undefined): Promise<void> };
  /** Bookkeeping after a revoke waits its turn here (the scheduler's bursts); none elsewhere. */
  gate?: () => Promise<() => void>;
  /**
   * Something security must hear about (a policy bypass, a tampered display), besides the error
   * log every alert goes to: a metric, a pager. Called with the alert's kind and its message.
   */
  onAlert?: (kind: "bypass" | "tamper", message: string) => void;
  /** `/jit` commands as their signed deliveries carried them, until an evaluation takes them in. */
  heardCommands?: HeardCommands;
  /** A person's applies and revokes take turns (person-lock.ts): with REDIS_URL, across replicas. */
  personLock?: PersonLock;
  /** Throws when this decision may not be carried out now (with REDIS_URL: an apply without the request's lock). */
  admit?: (decision: Decision) => void;
  /**
   * An installation's urgent lane (cluster/clients.ts): a client throttled apart from the
   * installation's other requests, for provider effects and the record writes that guard them.
   * Without it, one client does everything.
   */
  urgentClient?: (installationId: number) => Promise<GitHub>;
  /**
   * false: every evaluation reads the policy and CODEOWNERS at the default branch's name, with no
   * ref read and no cache (the benchmark's "before"). On by default (github/snapshot.ts, JudgingFiles).
   */
  readCache?: boolean;
}

/**
 * What one evaluation runs with: the app's dependencies and, when the evaluation's installation
 * has one, its urgent lane (`urgent`: provider effects and their record writes; `gh` for the rest).
 */
export type EvaluationDeps = AppDeps & { urgent?: GitHub };

/** The app's dependencies with the installation's urgent lane, when there is one. */
export async function withUrgentLane(deps: AppDeps, installationId: number | undefined): Promise<EvaluationDeps> {
  if (installationId === undefined || !deps.urgentClient) return deps;
  return { ...deps, urgent: await deps.urgentClient(installationId) };
}

/**
 * snapshot → decide → act, for one pull request. Every event that may change a request comes
 * here (through the keyed queue: one at a time per request). Returns the grant's state as it was
 * left (for the scheduler's index of live grants), and the requests it affects — those a merged
 * deletion ends, the grant an extension continues: those are evaluated under their own keys, and
 * each finds out for itself (its file is gone; it has an extension to link).
 */
export async function evaluatePullRequest(
  gh: GitHub,
  ref: RepoRef & { number: number },
  deps: EvaluationDeps,
  log: Log,
): Promise<Evaluated> {
  return evaluateSnapshot(gh, ref, await prepareEvaluation(gh, ref, deps), deps, log);
}

export interface Evaluated {
  state: CommentState | undefined;
  affected: (RepoRef & { number: number })[];
  accessRepository: boolean;
}

/**
 * Decide and act on a snapshot already read (the scheduler reads its due grants' snapshots
 * ahead of time, and retries failed evaluations that way): a merged deletion names the requests
 * it affects, whoever evaluates it.
 */
export async function evaluateSnapshot(gh: GitHub, ref: RepoRef & { number: number }, snapshot: RequestSnapshot | null, deps: EvaluationDeps, log: Log): Promise<Evaluated> {
  if (!snapshot) return { state: undefined, affected: [], accessRepository: false }; // no policy on the default branch
  // Into another branch, a deletion ends nothing: the grant file is still on the default branch.
  if (snapshot.kind.kind === "removal" && snapshot.pr.merged && snapshot.pr.baseRef === snapshot.defaultBranch) {
    const affected: (RepoRef & { number: number })[] = [];
    // Its history read once per commit of the default branch: a deletion is often evaluated more
    // than once while the branch stays where its merge left it (its `closed` webhook, the sweep).
    const at = snapshot.judgedAt ? { repoId: snapshot.repoId, commit: snapshot.judgedAt } : undefined;
    for (const file of snapshot.kind.files) {
      for (const origin of await requestsThatAddedAt(gh, ref, snapshot.defaultBranch, file.path, at)) {
        // The app's own revert PR of a request whose end (revert merged) this process recorded: nothing left to do there.
        if (origin.number !== ref.number && !endRecordedBy(snapshot.repoId, origin.number, ref.number)) affected.push({ ...ref, number: origin.number });
      }
    }
    return { state: undefined, affected, accessRepository: true };
  }
  const state = await finishEvaluation(gh, snapshot, deps, log);
  // An extension whose record just changed: the grant it continues may now link to it.
  const original = originalToRecheck(snapshot, state);
  return { state, affected: original === undefined ? [] : [{ ...ref, number: original }], accessRepository: true };
}

/** The snapshot: everything the decision needs, read from GitHub now. */
/** `turn`: what an evaluation earlier in this turn, which merged the request, knew (LoadOptions.movedFrom, .sameHead). */
export async function prepareEvaluation(gh: GitHub, ref: RepoRef & { number: number }, deps: AppDeps, pr?: PullRequestData, turn: Pick<LoadOptions, "movedFrom" | "sameHead"> = {}): Promise<RequestSnapshot | null> {
  const snapshot = await loadRequestSnapshot(gh, ref, { appId: deps.appId, now: deps.now(), cache: deps.readCache !== false, ...(pr ? { pr } : {}), ...turn });
  const heard = deps.heardCommands?.of(KeyedQueue.key(ref)) ?? [];
  // What the deliveries said counts even if the comment was edited or deleted since (see HeardCommands).
  if (snapshot && heard.length > 0) {
    const unedited = new Set(snapshot.commands.map((c) => c.id));
    for (const c of heard.filter((h) => !unedited.has(h.id))) {
      const message = `tamper: ${ref.owner}/${ref.repo}#${ref.number}: ${c.login}'s \`/jit ${c.command}\` comment (${c.id}) was edited or deleted after it was written; it counts as first written`;
      deps.onAlert?.("tamper", message);
    }
    snapshot.commands = mergeCommands(heard, snapshot.commands);
  }
  if (snapshot) await loadVetoOwners(gh, snapshot);
  return snapshot;
}

/**
 * Decide and act on a snapshot, at the clock's current time. The scheduler prepares snapshots
 * of grants about to expire a few seconds early and finishes them at the exact moment, so the
 * revoke does not wait for the reads.
 */
export async function finishEvaluation(gh: GitHub, snapshot: RequestSnapshot, deps: EvaluationDeps, log: Log): Promise<CommentState | undefined> {
  // One read of each team's members for the turn: the merged request is judged by the same lists
  // as the approval that merged it a moment before.
  const teamLists = new Map<string, TeamMembers>();
  const first = await decideAndAct(gh, snapshot, deps, log, { teamLists });
  if (!first.drawDeferred) return first.state;
  // Merged just now: the merged request is evaluated in the same turn, so its apply follows the
  // merge at once instead of waiting for the merge's webhook behind this evaluation's paced label
  // and comment writes (and those of every other request). It draws the display once, for both.
  const ref = { owner: snapshot.owner, repo: snapshot.repo, number: snapshot.pr.number };
  let after: RequestSnapshot | null = null;
  try {
    const pr = await readPullRequest(gh, ref);
    // The merge moved the default branch by one squash commit adding the grant file: the policy and
    // CODEOWNERS just read before it are carried over when a compare shows them untouched. The
    // merge was pinned to the head just judged: its files and its record (as this turn left it) are known.
    // Its contributors are known when a review could count (only then are they read).
    const contributors = contributorsRead(snapshot) ? { contributors: snapshot.contributors } : {};
    const sameHead = snapshot.files ? { headSha: snapshot.pr.headSha, files: snapshot.files, ...contributors, ...(first.check ? { check: first.check } : {}) } : undefined;
    if (pr.merged) after = await prepareEvaluation(gh, ref, deps, pr, { ...(snapshot.judgedAt ? { movedFrom: snapshot.judgedAt } : {}), ...(sameHead ? { sameHead } : {}) });
  } catch (error) {
    await first.drawDeferred();
    throw error;
  }
  // GitHub does not show the merge yet (or the policy is gone): the merge's webhook evaluates it.
  if (!after?.pr.merged) {
    await first.drawDeferred();
    return first.state;
  }
  const state = (await decideAndAct(gh, after, deps, log, { displayBehind: true, teamLists })).state;
  // The merge's own webhook would show nothing this evaluation did not see (github/own-events.ts).
  noteMergeSeen(ref, after.pr.headSha);
  return state;
}

async function decideAndAct(gh: GitHub, snapshot: RequestSnapshot, deps: EvaluationDeps, log: Log, turn: { displayBehind?: boolean; teamLists: Map<string, TeamMembers> }): Promise<Executed> {
  const now = deps.now();
  const lookup = (team: string, login: string) => snapshot.memberships.get(membershipKey(team, login));
  await resolveMemberships(gh, snapshot, (l) => decide(snapshot, now, l), turn.teamLists);
  const decision = decide(snapshot, now, lookup);
  deps.admit?.(decision);
  const heard = snapshot.commands.map((c) => c.id);
  const executed = await execute(gh, snapshot, decision, {
    appId: deps.appId,
    leaveDisplayAfterMerge: true,
    ...(turn.displayBehind ? { displayBehind: true } : {}),
    now: deps.now,
    providers: deps.providers,
    log,
    ...(deps.urgent ? { urgent: deps.urgent } : {}),
    ...(deps.liveGrants ? { liveGrants: deps.liveGrants } : {}),
    ...(deps.personLock ? { personLock: deps.personLock } : {}),
    ...(deps.notifier ? { notifier: deps.notifier } : {}),
    ...(deps.gate ? { gate: deps.gate } : {}),
    ...(deps.onAlert ? { onAlert: deps.onAlert } : {}),
  });
  // Heard commands stay until a decision had to count them: a veto heard while the request was
  // invalid (judged before commands are read) must still count once it is fixed, whoever edits it.
  commitCommentCursor(snapshot);
  // The Slack message is a display too: when this evaluation leaves its display to the merged
  // request's (drawDeferred), so does it, and the apply does not wait for Slack's answer.
  const syncSlack = async () => {
    if (deps.slackMessages && executed.state) await deps.slackMessages.sync(slackViewOf(snapshot, executed.state));
  };
  const { drawDeferred } = executed;
  if (drawDeferred) {
    executed.drawDeferred = async () => {
      await drawDeferred();
      await syncSlack();
    };
  }
  else await syncSlack();
  const counted = snapshot.pr.merged || snapshot.pr.state === "closed" || decision.status === "REJECTED";
  if (counted) deps.heardCommands?.settled(KeyedQueue.key({ owner: snapshot.owner, repo: snapshot.repo, number: snapshot.pr.number }), heard);
  return executed;
}
