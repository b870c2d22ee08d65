import type { Diagnostic } from "../diagnostics.js";
import type { Action, CheckPlan, Decision } from "../lifecycle/decide.js";
import type { RequestSnapshot } from "../lifecycle/snapshot.js";
import { announcements, notificationOf } from "../lifecycle/announce.js";
import { readState, replaceState, type CommentState } from "../lifecycle/state-block.js";
import type { Notifier } from "../notify/deliver.js";
import type { Notification } from "../notify/message.js";
import { CHECK_NAME, labelChanges, type StatusLabel } from "../lifecycle/status.js";
import type { ProviderFactory } from "../providers/registry.js";
import { ProviderError, unitsToRevoke } from "../providers/types.js";
import type { GitHub } from "./client.js";
import { forgetLiveGrants, listLiveGrants, type LiveGrantLister } from "./live-grants.js";
import { openAndMergeRevert, refusalNote, REVERT_BLOCKED_LABEL, RevertRefusedError } from "./revert.js";

export interface ExecuteOptions {
  appId: number;
  now: () => Date;
  providers: ProviderFactory;
  log: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
  /** Other live grants of the repository (reference counting); replaceable in benchmarks. */
  liveGrants?: LiveGrantLister;
  /** Slack and Teams delivery, in the background. */
  notifier?: Notifier;
  /**
   * Entered after a revoke, before its bookkeeping (revert PR, labels, comment); resolves to its
   * release. The scheduler uses it so a burst of expiries revokes everything first.
   */
  gate?: () => Promise<() => void>;
}

/** GitHub takes at most 50 annotations per check-run request. */
const MAX_ANNOTATIONS = 50;

/** The status comment, written in place: created once, then edited; unchanged text is not re-sent. */
class StatusComment {
  constructor(
    private readonly gh: GitHub,
    private readonly s: RequestSnapshot,
    private id: number | undefined = s.comment?.id,
    private body: string | undefined = s.comment?.body,
  ) {}

  get current(): string | undefined {
    return this.body;
  }

  async write(body: string): Promise<void> {
    if (body === this.body) return;
    const ref = { owner: this.s.owner, repo: this.s.repo };
    if (this.id) await this.gh.rest.issues.updateComment({ ...ref, comment_id: this.id, body });
    else this.id = (await this.gh.rest.issues.createComment({ ...ref, issue_number: this.s.pr.number, body })).data.id;
    this.body = body;
  }

  /** The state another replica may have recorded since the snapshot was loaded. */
  async freshState(): Promise<CommentState | undefined> {
    if (!this.id) return undefined;
    const { data } = await this.gh.rest.issues.getComment({ owner: this.s.owner, repo: this.s.repo, comment_id: this.id });
    return readState(data.body ?? "");
  }
}

/**
 * Makes GitHub (and the targets) match a decision. Each step compares with what is there
 * first, so a redelivered webhook or a second replica changes nothing and spends few requests.
 * Order matters: the check is set before a merge (branch protection may require it); labels
 * and the comment come after the actions, so they tell their outcome.
 */
export async function execute(gh: GitHub, s: RequestSnapshot, d: Decision, options: ExecuteOptions): Promise<CommentState | undefined> {
  if (d.alert) options.log.error(d.alert);
  if (d.check) await upsertCheck(gh, s, d.check, options.appId);
  const comment = new StatusComment(gh, s);
  let body = d.comment;
  let label = d.label;
  let revertBlocked: boolean | undefined;
  const releases: (() => void)[] = [];
  try {
    for (const action of d.actions) {
      const outcome = await perform(gh, s, action, comment, body, options);
      if (outcome.comment !== undefined) body = outcome.comment;
      if (outcome.label !== undefined) label = outcome.label;
      if (outcome.note && body) body = appendNote(body, outcome.note);
      if (outcome.revertBlocked !== undefined) revertBlocked = outcome.revertBlocked;
      if (outcome.release) releases.push(outcome.release);
    }
    return await record(gh, s, comment, { body, label, revertBlocked }, options);
  } finally {
    for (const release of releases) release();
  }
}

/** Labels, the status comment (with the notifications it records), the revert-blocked marker. */
async function record(
  gh: GitHub,
  s: RequestSnapshot,
  comment: StatusComment,
  { body, label, revertBlocked }: { body: string | undefined; label: StatusLabel | null | undefined; revertBlocked: boolean | undefined },
  options: ExecuteOptions,
): Promise<CommentState | undefined> {
  const ref = { owner: s.owner, repo: s.repo };
  if (label !== undefined) {
    const { add, remove } = labelChanges(s.pr.labels, label);
    for (const name of remove) await gh.rest.issues.removeLabel({ ...ref, issue_number: s.pr.number, name });
    if (add.length > 0) await gh.rest.issues.addLabels({ ...ref, issue_number: s.pr.number, labels: add });
  }
  if (body !== undefined) await writeStatus(gh, s, comment, body, options);
  // A request whose end is not yet recorded in git history carries this label, so the sweep finds it again.
  if (revertBlocked !== undefined && revertBlocked !== s.pr.labels.includes(REVERT_BLOCKED_LABEL)) {
    if (revertBlocked) await gh.rest.issues.addLabels({ ...ref, issue_number: s.pr.number, labels: [REVERT_BLOCKED_LABEL] });
    else await gh.rest.issues.removeLabel({ ...ref, issue_number: s.pr.number, name: REVERT_BLOCKED_LABEL });
  }
  return readState(comment.current ?? "");
}

interface Outcome {
  comment?: string;
  label?: StatusLabel;
  note?: string;
  /** Whether the end still waits for its revert PR to merge. */
  revertBlocked?: boolean;
  /** Leaves the bookkeeping gate, once everything is recorded. */
  release?: () => void;
}

async function perform(gh: GitHub, s: RequestSnapshot, action: Action, comment: StatusComment, body: string | undefined, options: ExecuteOptions): Promise<Outcome> {
  const ref = { owner: s.owner, repo: s.repo };
  switch (action.type) {
    case "merge":
      try {
        await gh.rest.pulls.merge({ ...ref, pull_number: s.pr.number, sha: action.sha, merge_method: "squash", commit_title: action.title, commit_message: action.message });
        options.log.info(`merged ${s.owner}/${s.repo}#${s.pr.number}`);
        return {};
      } catch (error) {
        const message = (error as Error).message.replace(/[\r\n]+/g, " ").slice(0, 300);
        options.log.warn(`merge of ${s.owner}/${s.repo}#${s.pr.number} failed: ${message}`);
        return { note: `⚠️ **jit-access could not merge this pull request:** ${message}. It is tried again on the next change; a person may merge it.` };
      }
    case "close":
      if (s.pr.state === "open") await gh.rest.pulls.update({ ...ref, pull_number: s.pr.number, state: "closed" });
      return {};
    case "apply":
      return applyGrant(gh, s, action, comment, options);
    case "revert": {
      const revert = await openAndMergeRevert(gh, ref, { ...action, defaultBranch: s.defaultBranch, appId: options.appId }, options.log);
      const note = [revert.merged ? undefined : `⚠️ The revert pull request #${revert.number} could not be merged: ${revert.blocked ?? "it is not open"}. A person must merge it.`, refusalNote(revert)].filter(Boolean).join("\n\n");
      return { comment: action.recorded(revert.number, revert.merged), revertBlocked: !revert.merged, ...(note ? { note } : {}) };
    }
    case "comment":
      if (action.once) {
        const fresh = await comment.freshState();
        if (!action.once(fresh)) return {};
        if (body !== undefined) await writeStatus(gh, s, comment, body, options, { fresh }); // recorded before it is posted: at most once
      }
      await gh.rest.issues.createComment({ ...ref, issue_number: s.pr.number, body: action.body });
      return {};
    case "revoke":
      return revokeGrant(gh, s, action, options);
  }
}

/**
 * Revoke first, record after: the provider takes away only what no standing access and no
 * other live grant still gives; then a revert PR records the end. The revert never delays the
 * revoke, and its failure does not undo it — the request is labelled until history catches up.
 */
async function revokeGrant(gh: GitHub, s: RequestSnapshot, action: Extract<Action, { type: "revoke" }>, options: ExecuteOptions): Promise<Outcome> {
  const t = action.target;
  const provider = options.providers(t.provider, gh);
  if (!provider) return { comment: action.failed(`no provider named ${t.provider}`) };
  let revokedAt: Date;
  try {
    const others = await (options.liveGrants ?? listLiveGrants)(gh, { owner: s.owner, repo: s.repo }, s.pr.number, options.appId, t.requester);
    const units = unitsToRevoke(provider, t, action.standing, others);
    await provider.revoke(t, units);
    revokedAt = options.now();
    options.log.info(`revoked ${t.id}: ${units.length ? units.join(", ") : "nothing to remove (standing or still granted)"}`);
  } catch (error) {
    options.log.error(`revoke of ${t.id} failed: ${(error as Error).message}`);
    return { comment: action.failed(shownError(error)) };
  }
  // Access is gone; what follows only records it, and may wait its turn behind other revokes.
  const release = options.gate ? await options.gate() : undefined;
  const gated = release ? { release } : {};
  if (!action.revert) return { ...action.ended(revokedAt, undefined), ...gated };
  try {
    const revert = await openAndMergeRevert(gh, { owner: s.owner, repo: s.repo }, { ...action.revert, body: action.revert.body(revokedAt), defaultBranch: s.defaultBranch, appId: options.appId }, options.log);
    const outcome = action.ended(revokedAt, revert);
    const note = [revert.merged ? undefined : `⚠️ The revert pull request #${revert.number} could not be merged: ${revert.blocked ?? "it is not open"}. The access is already gone; a person must merge it to record the end.`, refusalNote(revert)].filter(Boolean).join("\n\n");
    return { ...outcome, revertBlocked: !revert.merged, ...(note ? { note } : {}), ...gated };
  } catch (error) {
    options.log.warn(`revert for ${t.id} failed: ${(error as Error).message}`);
    const refused = error instanceof RevertRefusedError ? `${refusalNote(error)}\n\n` : "";
    return { ...action.ended(revokedAt, undefined), revertBlocked: true, note: `${refused}⚠️ The revert pull request could not be opened; jit-access tries again. The access is already gone.`, ...gated };
  }
}

/**
 * State first: the units the requester already holds are recorded in the status comment
 * before anything is applied, so a later revoke never removes standing access. A replica that
 * finds them recorded (re-read just before deciding) uses that record rather than looking
 * again after the grant may already have been applied.
 */
async function applyGrant(gh: GitHub, s: RequestSnapshot, action: Extract<Action, { type: "apply" }>, comment: StatusComment, options: ExecuteOptions): Promise<Outcome> {
  const t = action.target;
  const provider = options.providers(t.provider, gh);
  if (!provider) return { comment: action.failed(`no provider named ${t.provider}`, action.standing) };
  let standing = action.standing ?? (await comment.freshState())?.standing;
  try {
    if (!standing) {
      standing = await provider.held(t);
      await comment.write(action.applying(standing));
    }
    await provider.apply(t);
    forgetLiveGrants({ owner: s.owner, repo: s.repo }); // a revoke from now on must count this grant
    options.log.info(`applied ${t.id}: ${provider.describe(t)}`);
    return action.applied(options.now(), standing, provider.describe(t));
  } catch (error) {
    options.log.warn(`apply of ${t.id} failed: ${(error as Error).message}`);
    return { comment: action.failed(shownError(error), standing) };
  }
}

/** Writes the status comment with the notifications it newly records, then sends those. */
async function writeStatus(gh: GitHub, s: RequestSnapshot, comment: StatusComment, body: string, options: ExecuteOptions, read?: { fresh: CommentState | undefined }): Promise<void> {
  const recorded = await recordAnnouncements(s, body, comment, options, read);
  await comment.write(recorded.body);
  for (const n of recorded.announced) options.notifier!.send(n, reportDeliveryFailure(gh, s));
}

/**
 * The notifications this change deserves, recorded in the state block before they are sent, so
 * each goes out once: an event this evaluation already wrote, or another replica recorded since
 * the snapshot (re-read first), is dropped. Only events with a destination for the resource count.
 */
async function recordAnnouncements(
  s: RequestSnapshot,
  body: string,
  comment: StatusComment,
  options: ExecuteOptions,
  read?: { fresh: CommentState | undefined },
): Promise<{ body: string; announced: Notification[] }> {
  const parsed = readState(body);
  if (!parsed || !options.notifier) return { body, announced: [] };
  // What this evaluation already wrote (the warning is recorded before it is posted) stays recorded.
  const written = readState(comment.current ?? "")?.notified ?? [];
  const next: CommentState = written.every((e) => parsed.notified?.includes(e)) ? parsed : { ...parsed, notified: [...new Set([...(parsed.notified ?? []), ...written])] };
  if (next !== parsed) body = replaceState(body, next);
  let events = announcements(s.comment?.state, next).filter((e) => {
    const d = notificationOf(s, next, e).destinations;
    return d.slackEnv !== undefined || d.teamsEnv !== undefined;
  });
  if (events.length === 0) return { body, announced: [] };
  const fresh = read ? read.fresh : await comment.freshState();
  events = events.filter((e) => !fresh?.notified?.includes(e));
  const state: CommentState = { ...next, notified: [...new Set([...(next.notified ?? []), ...(fresh?.notified ?? []), ...events])] };
  return { body: replaceState(body, state), announced: events.map((e) => notificationOf(s, state, e)) };
}

/** A destination that keeps failing is said on the PR, once per destination (marked, so it is found again). */
function reportDeliveryFailure(gh: GitHub, s: RequestSnapshot) {
  return async (n: Notification, destination: string, reason: string) => {
    const marker = `<!-- jit-access:notify-failed ${destination} -->`;
    const ref = { owner: s.owner, repo: s.repo, issue_number: s.pr.number };
    const comments = await gh.paginate(gh.rest.issues.listComments, { ...ref, per_page: 100 });
    if (comments.some((c) => c.performed_via_github_app && (c.body ?? "").includes(marker))) return;
    await gh.rest.issues.createComment({ ...ref, body: `${marker}\n⚠️ jit-access could not deliver the "${n.event}" notification to ${destination}: ${reason}. Notifications of this request to that destination may be missing; check the webhook and the environment variable.` });
  };
}

/** Provider errors are written to be shown (secrets redacted); anything else stays in the log. */
function shownError(error: unknown): string {
  return error instanceof ProviderError ? error.message : "an unexpected error (details in the app's log)";
}

/** Inserts a note just above the state block, which must stay last. */
function appendNote(body: string, note: string): string {
  const at = body.lastIndexOf("<!-- jit-access:state ");
  return at < 0 ? `${body}\n${note}\n` : `${body.slice(0, at)}${note}\n\n${body.slice(at)}`;
}

async function upsertCheck(gh: GitHub, s: RequestSnapshot, plan: CheckPlan, appId: number): Promise<void> {
  const ref = { owner: s.owner, repo: s.repo };
  const { data } = await gh.rest.checks.listForRef({ ...ref, ref: s.pr.headSha, check_name: CHECK_NAME, filter: "latest", per_page: 100 });
  const existing = data.check_runs.find((run) => run.app?.id === appId);
  const output = { title: plan.title, summary: plan.summary.slice(0, 65_000), annotations: plan.annotations.slice(0, MAX_ANNOTATIONS).map(annotation) };
  const state = plan.status === "completed" ? { status: "completed" as const, conclusion: plan.conclusion! } : { status: "in_progress" as const };
  // A completed run is not reopened (GitHub would keep its old conclusion): a newer run replaces it.
  const reusable = existing && !(existing.status === "completed" && plan.status !== "completed") ? existing : undefined;
  if (reusable) {
    const same =
      reusable.status === plan.status &&
      (reusable.conclusion ?? undefined) === plan.conclusion &&
      reusable.output.title === plan.title &&
      reusable.output.summary === output.summary;
    if (same) return;
    await gh.rest.checks.update({ ...ref, check_run_id: reusable.id, ...state, output });
  } else {
    await gh.rest.checks.create({ ...ref, name: CHECK_NAME, head_sha: s.pr.headSha, ...state, output });
  }
}

function annotation(d: Diagnostic) {
  const sameLine = d.line === d.endLine;
  return {
    path: d.path,
    start_line: d.line,
    end_line: d.endLine,
    ...(sameLine ? { start_column: d.column, end_column: Math.max(d.column, d.endColumn) } : {}),
    annotation_level: "failure" as const,
    message: d.message,
    title: "jit-access",
  };
}
