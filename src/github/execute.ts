import type { Diagnostic } from "../diagnostics.js";
import type { Action, CheckPlan, Decision } from "../lifecycle/decide.js";
import type { RequestSnapshot } from "../lifecycle/snapshot.js";
import { announcements, notificationOf } from "../lifecycle/announce.js";
import { extensionLinks, linkExtensions, linksChanged } from "../lifecycle/extension.js";
import { readState, replaceState, type CommentState } from "../lifecycle/state-block.js";
import type { Notifier } from "../notify/deliver.js";
import type { Notification } from "../notify/message.js";
import { CHECK_NAME, labelChanges, STATUS_LABELS, type StatusLabel } from "../lifecycle/status.js";
import type { ProviderFactory } from "../providers/registry.js";
import { ProviderError, standingOf, unitsToRevoke } from "../providers/types.js";
import { isNotFound, type GitHub } from "./client.js";
import { readCheck, recordKey, type CheckRun } from "./record.js";
import { listLiveGrants, stillGives, type LiveGrantLister } from "./live-grants.js";
import { exclusively, personKey } from "./person-lock.js";
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
  onAlert?: (kind: "bypass" | "tamper", message: string) => void;
}

/** GitHub takes at most 50 annotations per check-run request. */
const MAX_ANNOTATIONS = 50;

/**
 * The grant's record (this app's check run, see record.ts) and its display (the status comment),
 * written in that order: the record first, so a crash between the two leaves the truth ahead of
 * the display, never behind it. Unchanged text is not re-sent.
 */
class GrantRecord {
  private check: CheckRun | undefined;
  /** The run was created by this evaluation: nobody else can have written it since. */
  private createdHere = false;
  /** The record was read again during this evaluation. */
  private reread = false;
  private commentId: number | undefined;
  private commentBody: string | undefined;
  /** Extensions of this grant (see lifecycle/extension.ts): every body written shows them, whatever the decision. */
  private readonly links: number[];

  constructor(
    private readonly gh: GitHub,
    private readonly s: RequestSnapshot,
  ) {
    this.check = s.check;
    this.commentId = s.comment?.id;
    this.commentBody = s.comment?.body;
    this.links = extensionLinks(s.record, s.extensions);
  }

  /** This evaluation found other extensions than the record links: the record must be written. */
  get newLinks(): boolean {
    return linksChanged(this.s.record, this.links);
  }

  private shown(body: string): string {
    return linkExtensions(body, this.links);
  }

  /** The record's text: the last status comment body the app wrote ("" before the first). */
  get current(): string | undefined {
    return this.check?.text || undefined;
  }

  /** The display no longer shows the record: someone edited or deleted the app's comment. */
  get tampered(): boolean {
    return this.current !== undefined && this.commentBody !== this.current;
  }

  async write(text: string): Promise<void> {
    const body = this.shown(text);
    await this.putRecord(body);
    await this.writeDisplay(body);
  }

  /** The record alone (the check run); the display follows with `write`. */
  async writeRecord(text: string): Promise<void> {
    await this.putRecord(this.shown(text));
  }

  private async putRecord(body: string): Promise<void> {
    const ref = { owner: this.s.owner, repo: this.s.repo };
    if (body !== this.check?.text) {
      if (this.check) {
        await this.gh.rest.checks.update({ ...ref, check_run_id: this.check.id, output: { title: this.check.title, summary: this.check.summary, text: body } });
        this.check = { ...this.check, text: body };
      } else {
        // A merged request the app never saw open (its webhooks were lost): the record starts here.
        const title = "Recorded by jit-access";
        const summary = "This check run holds jit-access's record of this request; the status comment on the pull request shows it.";
        const { data } = await this.gh.rest.checks.create({ ...ref, name: CHECK_NAME, external_id: recordKey({ owner: this.s.owner, repo: this.s.repo, number: this.s.pr.number }), head_sha: this.s.pr.headSha, status: "completed", conclusion: "neutral", output: { title, summary, text: body } });
        this.check = { id: data.id, status: "completed", conclusion: "neutral", title, summary, text: body };
        this.createdHere = true;
      }
    }
  }

  private async writeDisplay(body: string): Promise<void> {
    const ref = { owner: this.s.owner, repo: this.s.repo };
    if (body === this.commentBody) return;
    if (this.commentId) {
      try {
        await this.gh.rest.issues.updateComment({ ...ref, comment_id: this.commentId, body });
      } catch (error) {
        if (!isNotFound(error)) throw error;
        this.commentId = undefined; // deleted meanwhile: post it again
      }
    }
    if (!this.commentId) this.commentId = (await this.gh.rest.issues.createComment({ ...ref, issue_number: this.s.pr.number, body })).data.id;
    this.commentBody = body;
  }

  /**
   * The record as it is on GitHub now (only this app writes it: another replica may have). Read
   * once per evaluation; after that, and after this evaluation's own writes, what it holds is known.
   */
  async freshState(): Promise<CommentState | undefined> {
    if (!this.check) return undefined;
    if (!this.createdHere && !this.reread) {
      this.check = { ...this.check, text: (await readCheck(this.gh, { owner: this.s.owner, repo: this.s.repo }, this.check.id)).text };
      this.reread = true;
    }
    return readState(this.check.text);
  }

  /** The `jit-access` check the decision wants, carrying the record's text along. */
  async setCheck(plan: CheckPlan, text: string | undefined): Promise<void> {
    const ref = { owner: this.s.owner, repo: this.s.repo };
    const output = { title: plan.title, summary: plan.summary.slice(0, 65_000), text: text !== undefined ? this.shown(text) : (this.check?.text ?? ""), annotations: plan.annotations.slice(0, MAX_ANNOTATIONS).map(annotation) };
    const state = plan.status === "completed" ? { status: "completed" as const, conclusion: plan.conclusion! } : { status: "in_progress" as const };
    const existing = this.check;
    // A completed run is not reopened (GitHub would keep its old conclusion): a newer run replaces it, record included.
    const reusable = existing && !(existing.status === "completed" && plan.status !== "completed") ? existing : undefined;
    const next = { status: state.status, conclusion: plan.conclusion ?? null, title: plan.title, summary: output.summary, text: output.text };
    if (reusable) {
      const same = reusable.status === plan.status && (reusable.conclusion ?? undefined) === plan.conclusion && reusable.title === plan.title && reusable.summary === output.summary && reusable.text === output.text;
      if (same) return;
      await this.gh.rest.checks.update({ ...ref, check_run_id: reusable.id, ...state, output });
      this.check = { id: reusable.id, ...next };
    } else {
      const { data } = await this.gh.rest.checks.create({ ...ref, name: CHECK_NAME, external_id: recordKey({ owner: this.s.owner, repo: this.s.repo, number: this.s.pr.number }), head_sha: this.s.pr.headSha, ...state, output });
      this.check = { id: data.id, ...next };
      this.createdHere = true;
    }
  }
}

/**
 * Makes GitHub (and the targets) match a decision. Each step compares with what is there
 * first, so a redelivered webhook or a second replica changes nothing and spends few requests.
 * Order matters: the check is set before a merge (branch protection may require it); labels
 * and the comment come after the actions, so they tell their outcome.
 */
export async function execute(gh: GitHub, s: RequestSnapshot, d: Decision, options: ExecuteOptions): Promise<CommentState | undefined> {
  const alert = (kind: "bypass" | "tamper", message: string) => {
    options.log.error(message);
    options.onAlert?.(kind, message);
  };
  if (d.alert) alert("bypass", d.alert);
  const comment = new GrantRecord(gh, s);
  // Someone edited or deleted the app's status comment: the record wins (the comment is written
  // again below from the decision or the record), and security hears of it.
  const tampered = comment.tampered;
  if (tampered) alert("tamper", `tamper: the status comment of ${s.owner}/${s.repo}#${s.pr.number} no longer shows jit-access's record (edited or deleted); restoring it`);
  // The notifications a new status deserves are recorded in it before anything is written, so the
  // check run (the record) and the comment get the same text in one write each.
  const early = d.comment !== undefined ? await recordAnnouncements(s, d.comment, comment, options) : { body: undefined, announced: [] };
  if (d.check) await comment.setCheck(d.check, early.body);
  let body = early.body;
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
    if (body === undefined && (tampered || comment.newLinks)) body = comment.current;
    const state = await record(gh, s, comment, { body, label, revertBlocked }, options);
    for (const n of early.announced) options.notifier!.send(n, reportDeliveryFailure(gh, s));
    return state;
  } finally {
    for (const release of releases) release();
  }
}

/** Labels, the status comment (with the notifications it records), the revert-blocked marker. */
async function record(
  gh: GitHub,
  s: RequestSnapshot,
  comment: GrantRecord,
  { body, label, revertBlocked }: { body: string | undefined; label: StatusLabel | null | undefined; revertBlocked: boolean | undefined },
  options: ExecuteOptions,
): Promise<CommentState | undefined> {
  const ref = { owner: s.owner, repo: s.repo };
  if (label !== undefined) {
    const { add, remove } = labelChanges(s.pr.labels, label);
    // Tampered when the labels did not show what the record held before this decision: a
    // decision that moves the status on (a live grant expiring, say) changes them legitimately.
    const recorded = s.record?.status;
    const settled = recorded === "APPROVED" || recorded === "REJECTED" || recorded === "REVOKED" || recorded === "EXECUTED" ? labelChanges(s.pr.labels, STATUS_LABELS[recorded]) : undefined;
    if (settled && settled.add.length + settled.remove.length > 0) {
      const message = `tamper: the labels of ${s.owner}/${s.repo}#${s.pr.number} did not show its recorded status (${recorded}); restored`;
      options.log.error(message);
      options.onAlert?.("tamper", message);
    }
    for (const name of remove) await removeLabel(gh, { ...ref, issue_number: s.pr.number, name });
    if (add.length > 0) await gh.rest.issues.addLabels({ ...ref, issue_number: s.pr.number, labels: add });
  }
  if (body !== undefined) await writeStatus(gh, s, comment, body, options);
  // A request whose end is not yet recorded in git history carries this label, so the sweep finds it again.
  if (revertBlocked !== undefined && revertBlocked !== s.pr.labels.includes(REVERT_BLOCKED_LABEL)) {
    if (revertBlocked) await gh.rest.issues.addLabels({ ...ref, issue_number: s.pr.number, labels: [REVERT_BLOCKED_LABEL] });
    else await removeLabel(gh, { ...ref, issue_number: s.pr.number, name: REVERT_BLOCKED_LABEL });
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

async function perform(gh: GitHub, s: RequestSnapshot, action: Action, comment: GrantRecord, body: string | undefined, options: ExecuteOptions): Promise<Outcome> {
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
      return revokeGrant(gh, s, action, comment, options);
  }
}

/** The requester's other grants in this repository that may hold access (reference counting). */
function otherLiveGrants(gh: GitHub, s: RequestSnapshot, requester: string, options: ExecuteOptions) {
  const path = s.record?.path ?? (s.kind.kind === "request" ? s.kind.file.path : "");
  const q = { defaultBranch: s.defaultBranch, except: s.pr.number, path, requester, appId: options.appId, now: options.now() };
  return (options.liveGrants ?? listLiveGrants)(gh, { owner: s.owner, repo: s.repo }, q);
}

/**
 * Revoke first, record the end next, the revert PR last: the provider takes away only what no
 * standing access and no other live grant still gives; the end is in the record before any revert
 * PR exists (so the app's own revert, once merged, is never mistaken for a deletion of a live
 * grant); the revert never delays the revoke, and its failure does not undo it — the request is
 * labelled until history catches up.
 */
async function revokeGrant(gh: GitHub, s: RequestSnapshot, action: Extract<Action, { type: "revoke" }>, comment: GrantRecord, options: ExecuteOptions): Promise<Outcome> {
  const t = action.target;
  const provider = options.providers(t.provider, gh);
  if (!provider) return { comment: action.failed(`no provider named ${t.provider}`) };
  let revokedAt: Date | undefined;
  try {
    // Taking turns with this person's other grants (person-lock.ts), and recording the end before
    // the turn passes: a grant that has ended must never count as still giving its units.
    revokedAt = await exclusively(personKey(s, t.requester), async () => {
      // Ended meanwhile (another evaluation, a replica): revoked and recorded once, not again.
      const fresh = await comment.freshState();
      if (fresh?.status === "EXECUTED" || fresh?.status === "REVOKED") return undefined;
      const others = (await otherLiveGrants(gh, s, t.requester, options)).filter((g) => stillGives(g, options.now()));
      const units = unitsToRevoke(provider, t, action.standing, others);
      await provider.revoke(t, units);
      const at = options.now();
      options.log.info(`revoked ${t.id}: ${units.length ? units.join(", ") : "nothing to remove (standing or still granted)"}`);
      await comment.writeRecord(action.ended(at, undefined).comment);
      return at;
    });
  } catch (error) {
    options.log.error(`revoke of ${t.id} failed: ${(error as Error).message}`);
    return { comment: action.failed(shownError(error)) };
  }
  if (!revokedAt) return {};
  // Access is gone; what follows only records it, and may wait its turn behind other revokes.
  const release = options.gate ? await options.gate() : undefined;
  const gated = release ? { release } : {};
  if (!action.revert) return { ...action.ended(revokedAt, undefined), ...gated };
  await comment.write(action.ended(revokedAt, undefined).comment);
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
 * State first: the units the requester already holds (and not through another live grant) are
 * recorded in the grant's record before anything is applied, so a later revoke never removes
 * standing access. An evaluation that finds them recorded (re-read in its turn) uses that record
 * rather than looking again after the grant may already have been applied.
 */
async function applyGrant(gh: GitHub, s: RequestSnapshot, action: Extract<Action, { type: "apply" }>, comment: GrantRecord, options: ExecuteOptions): Promise<Outcome> {
  const t = action.target;
  const provider = options.providers(t.provider, gh);
  if (!provider) return { comment: action.failed(`no provider named ${t.provider}`, action.standing) };
  let standing = action.standing;
  try {
    // Taking turns with this person's other grants (person-lock.ts): what is held and what other
    // grants give are read, and this grant applied, with none of them applying or revoking meanwhile.
    const recorded = await exclusively(personKey(s, t.requester), async () => {
      // Re-read in turn, not before: another evaluation of this grant may have recorded its standing
      // and applied while this one waited, and what is held now includes what that one gave.
      standing ??= (await comment.freshState())?.standing;
      if (!standing) {
        standing = standingOf(provider, t, await provider.held(t), await otherLiveGrants(gh, s, t.requester, options));
        await comment.write(action.applying(standing));
      }
      await provider.apply(t);
      return standing;
    });
    options.log.info(`applied ${t.id}: ${provider.describe(t)}`);
    return action.applied(options.now(), recorded, provider.describe(t));
  } catch (error) {
    options.log.warn(`apply of ${t.id} failed: ${(error as Error).message}`);
    return { comment: action.failed(shownError(error), standing) };
  }
}

/** Writes the status comment with the notifications it newly records, then sends those. */
async function writeStatus(gh: GitHub, s: RequestSnapshot, comment: GrantRecord, body: string, options: ExecuteOptions, read?: { fresh: CommentState | undefined }): Promise<void> {
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
  comment: GrantRecord,
  options: ExecuteOptions,
  read?: { fresh: CommentState | undefined },
): Promise<{ body: string; announced: Notification[] }> {
  const parsed = readState(body);
  if (!parsed || !options.notifier) return { body, announced: [] };
  // What this evaluation already wrote (the warning is recorded before it is posted) stays recorded.
  const written = readState(comment.current ?? "")?.notified ?? [];
  const next: CommentState = written.every((e) => parsed.notified?.includes(e)) ? parsed : { ...parsed, notified: [...new Set([...(parsed.notified ?? []), ...written])] };
  if (next !== parsed) body = replaceState(body, next);
  let events = announcements(s.record, next).filter((e) => {
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

/** A label that is already gone is what was wanted: never a failure (someone may have removed it). */
async function removeLabel(gh: GitHub, params: { owner: string; repo: string; issue_number: number; name: string }): Promise<void> {
  try {
    await gh.rest.issues.removeLabel(params);
  } catch (error) {
    if (!isNotFound(error)) throw error;
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
