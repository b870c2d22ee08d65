import { readState } from "../lifecycle/codec.js";
import type { CommentView, Decision, Effect } from "../lifecycle/decision.js";
import { extensionLinks, linksChanged } from "../lifecycle/extension.js";
import type { GrantRecord } from "../lifecycle/record.js";
import { settleApplied, settleApplyFailed, settleHolding, settleReverted, settleRevoked, settleRevokeFailed } from "../lifecycle/settle.js";
import type { CheckRun, RequestSnapshot } from "../lifecycle/snapshot.js";
import { labelChanges, STATUS_LABELS, type StatusLabel } from "../lifecycle/status.js";
import type { Notifier } from "../notify/deliver.js";
import type { Notification } from "../notify/message.js";
import { checkPlan } from "../present/check.js";
import { statusComment } from "../present/comment.js";
import { expiryWarning, handoverReply, mergeCommit, refusedRevokeReply, revertText } from "../present/messages.js";
import type { DisplayNote } from "../present/notes.js";
import { isNotFound, type GitHub } from "./client.js";
import { recordAnnouncements, reportDeliveryFailure } from "./announce.js";
import { applyGrant, revokeGrant, type GrantEffectOptions } from "./grant-effects.js";
import { rememberRequester } from "./live-grants.js";
import { RecordStore, StatusDisplay } from "./record-store.js";
import { findStatusComment } from "./snapshot.js";
import { noteRecordedEnd } from "./own-events.js";
import { openAndMergeRevert, REVERT_BLOCKED_LABEL, RevertRefusedError, type RevertOutcome } from "./revert.js";
import { alertFields, grantFields, type GrantLogFields } from "../logging.js";
import { grantIdOf } from "../lifecycle/snapshot.js";

export interface ExecuteOptions extends GrantEffectOptions {
  /** Slack and Teams delivery, in the background. */
  notifier?: Notifier;
  /**
   * Entered after a revoke, before its bookkeeping (revert PR, labels, comment); resolves to its
   * release. The scheduler uses it so a burst of expiries revokes everything first.
   */
  gate?: () => Promise<() => void>;
  /**
   * The installation's urgent lane (cluster/clients.ts), for what happens inside a grant's turn:
   * the provider's apply or revoke (github-team writes through it) and the record read and
   * written around it. Absent: the evaluation's client. Labels, comments, the check shown to
   * people, merges and reverts never use it, so it holds few writes and none wait long there.
   */
  urgent?: GitHub;
  /**
   * A merge this decision makes is followed at once by the merged request's own evaluation, in
   * the same turn (handlers/evaluate.ts): the labels and comment are then left to that one, which
   * draws the merged state once, instead of two sets of paced display writes holding the apply.
   */
  leaveDisplayAfterMerge?: boolean;
  /**
   * The evaluation before this one in the same turn merged and left the display to this one: the
   * comment and labels are behind the record on purpose, not tampered with.
   */
  displayBehind?: boolean;
}

/** What an execution left: the record as written, and whether it merged the request. */
export interface Executed {
  state: GrantRecord | undefined;
  merged: boolean;
  /**
   * The display this execution left to the merged request's evaluation (`leaveDisplayAfterMerge`):
   * drawn by calling it when that evaluation cannot follow (it failed, or GitHub does not yet show
   * the merge), so the display never stays behind the record.
   */
  drawDeferred?: () => Promise<void>;
  /** The record's check run as this execution left it: the merged request's evaluation in the same turn starts from it. */
  check?: CheckRun;
}

/** What the status comment shows: a record, how to present it, and notes about what just failed. */
interface Shown {
  record: GrantRecord;
  view: CommentView;
  notes: DisplayNote[];
}

/**
 * Makes GitHub (and the targets) match a decision: write the record, perform each effect, settle
 * its outcome into the record (lifecycle/settle.ts), write, draw (present/). Each step compares
 * with what is there first, so a redelivered webhook or a second replica changes nothing and
 * spends few requests. The check is set before a merge (branch protection may require it); labels
 * and the comment come after the effects, so they tell their outcome.
 */
export async function execute(gh: GitHub, s: RequestSnapshot, d: Decision, options: ExecuteOptions): Promise<Executed> {
  const run = new Execution(gh, s, d, options);
  return run.perform();
}

class Execution {
  private readonly store: RecordStore;
  private readonly display: StatusDisplay;
  /** Extensions of this grant (lifecycle/extension.ts): every record drawn shows them, whatever the decision. */
  private readonly links: number[];
  /** The record effects settle into: the decision's, then each outcome's. */
  private record: GrantRecord | undefined;
  private shown: Shown | undefined;
  private label: StatusLabel | null | undefined;
  private revertBlocked: boolean | undefined;
  private merged = false;
  private readonly releases: (() => void)[] = [];

  /** The urgent lane (ExecuteOptions.urgent), or the one client. */
  private readonly urgent: GitHub;

  constructor(
    private readonly gh: GitHub,
    private readonly s: RequestSnapshot,
    private readonly d: Decision,
    private readonly options: ExecuteOptions,
  ) {
    this.urgent = options.urgent ?? gh;
    this.store = new RecordStore(gh, s);
    this.display = new StatusDisplay(gh, s, () => findStatusComment(gh, { owner: s.owner, repo: s.repo, number: s.pr.number }, options.appId));
    this.links = extensionLinks(s.record, s.extensions);
    this.record = d.record;
    this.shown = d.record && d.view ? { record: d.record, view: d.view, notes: [] } : undefined;
    this.label = d.label;
  }

  private get ref() {
    return { owner: this.s.owner, repo: this.s.repo };
  }

  private alert(kind: "bypass" | "tamper", message: string): void {
    this.options.log.error(message, alertFields(kind, this.fields("alert", "alert")));
    this.options.onAlert?.(kind, message);
  }

  /** The fields of a log line about this request's grant (the file's, else the record's). */
  private fields(action: GrantLogFields["action"], outcome: GrantLogFields["outcome"], grant?: { requester: string; resource: string; role: string }): GrantLogFields {
    const g = grant ?? this.d.record?.grant ?? this.s.record?.grant;
    return grantFields({ id: this.s.record?.grant_id ?? grantIdOf(this.s), requester: g?.requester ?? this.s.pr.author, resource: g?.resource ?? "", role: g?.role ?? "" }, action, outcome);
  }

  /** The record's text: the display drawn from it, with this grant's extensions. */
  private draw(shown: Shown): string {
    const record = { ...shown.record };
    if (this.links.length > 0) record.extended_by = [...this.links];
    else delete record.extended_by;
    return statusComment(this.s, record, shown.view, shown.notes);
  }

  /** An outcome changed the record: the display is drawn from it, notes start over. */
  private settled(record: GrantRecord, notes: DisplayNote[] = []): void {
    this.record = record;
    this.shown = { record, view: this.d.view ?? { kind: "record" }, notes };
  }

  private note(note: DisplayNote): void {
    if (this.shown) this.shown.notes.push(note);
  }

  async perform(): Promise<Executed> {
    const { s, d } = this;
    if (d.alert) this.alert(d.alertKind ?? "bypass", d.alert);
    // Someone edited or deleted the app's status comment: the record wins (the comment is written
    // again below from the decision or the record), and security hears of it.
    const tampered = !this.options.displayBehind && !this.display.shows(this.store.current);
    if (tampered) this.alert("tamper", `tamper: the status comment of ${s.owner}/${s.repo}#${s.pr.number} no longer shows jit-access's record (edited or deleted); restoring it`);
    // The notifications a new status deserves are recorded in it before anything is written, so the
    // check run (the record) and the comment get the same text in one write each.
    let announced: Notification[] = [];
    if (this.shown) {
      const early = await this.announce(this.shown.record);
      this.shown.record = early.record;
      this.record = early.record;
      announced = early.announced;
    }
    if (d.check) await this.store.setCheck(checkPlan(d.check, s.defaultBranch), this.shown ? this.draw(this.shown) : undefined);
    try {
      for (const effect of d.effects) await this.effect(effect);
      const deferred = this.merged && this.options.leaveDisplayAfterMerge;
      if (!deferred) await this.finish(tampered);
      for (const n of announced) this.options.notifier!.send(n, reportDeliveryFailure(this.gh, s));
      const state = readState(this.store.current ?? "");
      // An end whose revert PR merged, in the record as written: that revert PR's evaluation need not queue this request again.
      if ((state?.status === "REVOKED" || state?.status === "EXECUTED") && state.revert_pr !== undefined && state.revert_pending === false) {
        noteRecordedEnd({ repoId: s.repoId, owner: s.owner, repo: s.repo, number: s.pr.number }, state.revert_pr);
      }
      const check = this.store.run;
      return deferred ? { state, merged: true, drawDeferred: () => this.finish(tampered), ...(check ? { check } : {}) } : { state, merged: this.merged };
    } finally {
      for (const release of this.releases) release();
    }
  }

  private announce(record: GrantRecord, fresh?: GrantRecord) {
    const read = fresh ? () => Promise.resolve(fresh) : () => this.store.fresh();
    return recordAnnouncements(this.s, record, readState(this.store.current ?? ""), read, this.options.notifier);
  }

  /** Writes the record and then its display (the truth is never behind what people see), with the notifications it newly records, then sends those. */
  private async writeStatus(shown: Shown, fresh?: GrantRecord): Promise<void> {
    const recorded = await this.announce(shown.record, fresh);
    shown.record = recorded.record;
    const text = this.draw(shown);
    await this.store.put(text);
    await this.display.write(text);
    for (const n of recorded.announced) this.options.notifier!.send(n, reportDeliveryFailure(this.gh, this.s));
  }

  private async effect(effect: Effect): Promise<void> {
    const { gh, s, ref } = this;
    switch (effect.type) {
      case "merge": {
        const { title, message } = mergeCommit(effect, s.pr.number);
        try {
          await gh.rest.pulls.merge({ ...ref, pull_number: s.pr.number, sha: effect.sha, merge_method: "squash", commit_title: title, commit_message: message });
          this.merged = true;
          this.options.log.info(`merged ${s.owner}/${s.repo}#${s.pr.number}`, this.fields("merge", "ok", effect.grant));
        } catch (error) {
          const text = (error as Error).message.replace(/[\r\n]+/g, " ").slice(0, 300);
          this.options.log.warn(`merge of ${s.owner}/${s.repo}#${s.pr.number} failed: ${text}`, this.fields("merge", "failed", effect.grant));
          this.note({ kind: "merge-failed", message: text });
        }
        return;
      }
      case "close":
        if (s.pr.state === "open") await gh.rest.pulls.update({ ...ref, pull_number: s.pr.number, state: "closed" });
        return;
      case "apply":
        return this.apply(effect);
      case "revoke":
        return this.revoke(effect);
      case "revert": {
        const record = this.record!;
        const text = revertText(effect, record, s.pr.number);
        const revert = await openAndMergeRevert(gh, ref, { branch: effect.branch, path: effect.path, blobSha: effect.blobSha, ...text, defaultBranch: s.defaultBranch, appId: this.options.appId }, this.options.log);
        this.settled(settleReverted(record, effect, revert), revertNotes(revert, false));
        this.revertBlocked = !revert.merged;
        return;
      }
      case "reply":
        // The record first: a reply is posted only once the record says it was answered, so a
        // failure between the two never makes the next evaluation answer it again.
        if (this.shown) await this.writeStatus(this.shown);
        await gh.rest.issues.createComment({ ...ref, issue_number: s.pr.number, body: refusedRevokeReply(effect) });
        return;
      case "warn": {
        // At most once across replicas: the record is re-read, and written before the warning is posted.
        const fresh = await this.store.fresh();
        if (fresh?.warned_at) return;
        if (this.shown) await this.writeStatus(this.shown, fresh);
        await gh.rest.issues.createComment({ ...ref, issue_number: s.pr.number, body: expiryWarning(this.record!) });
        return;
      }
    }
  }

  private async apply(effect: Extract<Effect, { type: "apply" }>): Promise<void> {
    const base = this.record!;
    // Its file is on the default branch now (merged): reference counting, the next grant's apply or
    // revoke included, knows its requester from the record without reading the blob.
    if (base.blob && base.grant) rememberRequester(base.blob, base.grant.requester);
    // Inside the requester's turn, all on the urgent lane: the record read, the standing written
    // (the record only: its display follows in finish(), after the apply — a comment write here would
    // hold the apply behind the installation's paced comments), and the provider's apply.
    const outcome = await applyGrant(this.urgent, this.s, effect, {
      fresh: () => this.store.fresh(this.urgent),
      holding: async (standing) => {
        await this.store.put(this.draw({ record: settleHolding(base, effect, standing), view: { kind: "record" }, notes: [] }), this.urgent);
      },
    }, this.options);
    if (outcome.kind === "applied") {
      // Handed over before the record says APPROVED: should the reply fail, the evaluation fails
      // with the grant still APPLYING, the next one applies again (a fresh certificate for the same
      // window) and replies then. Twice at worst, never lost.
      if (outcome.handover) {
        await this.gh.rest.issues.createComment({ ...this.ref, issue_number: this.s.pr.number, body: handoverReply(effect.target.requester, outcome.handover) });
      }
      this.settled(settleApplied(base, effect, outcome));
      this.label = STATUS_LABELS.APPROVED;
    } else {
      this.settled(settleApplyFailed(base, effect, outcome, this.options.now()));
    }
  }

  /**
   * Revoke first, record the end next, the revert PR last: the end is in the record before any
   * revert PR exists (so the app's own revert, once merged, is never mistaken for a deletion of a
   * live grant); the revert never delays the revoke, and its failure does not undo it — the request
   * is labelled until history catches up.
   */
  private async revoke(effect: Extract<Effect, { type: "revoke" }>): Promise<void> {
    const { gh, s } = this;
    const base = this.record!;
    const ended = (at: Date, revertPr?: RevertOutcome) => settleRevoked(base, effect.end, effect.revert, { at, ...(revertPr ? { revertPr } : {}) });
    // Inside the requester's turn, all on the urgent lane (see apply).
    const outcome = await revokeGrant(this.urgent, s, effect, {
      fresh: () => this.store.fresh(this.urgent),
      ended: (at) => this.store.put(this.draw({ record: ended(at), view: { kind: "record" }, notes: [] }), this.urgent),
    }, this.options);
    if (outcome.kind === "already-ended") return;
    if (outcome.kind === "failed") {
      this.settled(settleRevokeFailed(base, effect.end, outcome.message, this.options.now()));
      return;
    }
    // Access is gone; what follows only records it, and may wait its turn behind other revokes.
    const release = this.options.gate ? await this.options.gate() : undefined;
    if (release) this.releases.push(release);
    this.label = effect.end.status === "EXECUTED" ? STATUS_LABELS.EXECUTED : STATUS_LABELS.REVOKED;
    if (!effect.revert) {
      this.settled(ended(outcome.at));
      return;
    }
    // The end is in the record already (written inside the turn, above): its display is drawn once,
    // in finish(), with the revert PR's outcome — whatever that is, a failure included.
    try {
      const text = revertText(effect.revert, ended(outcome.at), s.pr.number, outcome.at);
      const revert = await openAndMergeRevert(gh, this.ref, { branch: effect.revert.branch, path: effect.revert.path, blobSha: effect.revert.blobSha, ...text, defaultBranch: s.defaultBranch, appId: this.options.appId }, this.options.log);
      this.settled(ended(outcome.at, revert), revertNotes(revert, true));
      this.revertBlocked = !revert.merged;
    } catch (error) {
      this.options.log.warn(`revert for ${effect.target.id} failed: ${(error as Error).message}`, grantFields(effect.target, "revert", "failed"));
      const refused: DisplayNote[] = error instanceof RevertRefusedError ? [{ kind: "revert-refused", refused: error.refused }] : [];
      this.settled(ended(outcome.at), [...refused, { kind: "revert-not-opened" }]);
      this.revertBlocked = true;
    }
  }

  /** Labels, the status comment (with the notifications it records), the revert-blocked marker. */
  private async finish(tampered: boolean): Promise<void> {
    const { gh, s, ref } = this;
    // Nothing new to show, but the display was changed by someone, or the extensions changed:
    // restored from the record (extensions drawn afresh).
    const current = this.store.current;
    const relink = !this.shown && current !== undefined && linksChanged(s.record, this.links) ? readState(current) : undefined;
    if (relink) this.shown = { record: relink, view: { kind: "record" }, notes: [] };
    const restore = !this.shown && tampered && current !== undefined;
    // A PR this app keeps no record of carries none of its status labels (a person added them, or
    // they outlived a record): left there, they would bring the PR back to every sweep.
    if (this.label === undefined && !this.record && !s.record && !s.displayUnread) this.label = null;
    const add: string[] = [];
    const remove: string[] = [];
    if (this.label !== undefined) {
      const status = labelChanges(s.pr.labels, this.label);
      add.push(...status.add);
      remove.push(...status.remove);
      // Tampered when the labels did not show what the record held before this decision: a
      // decision that moves the status on (a live grant expiring, say) changes them legitimately.
      const recorded = s.record?.status;
      const settled = recorded === "APPROVED" || recorded === "REJECTED" || recorded === "REVOKED" || recorded === "EXECUTED" ? labelChanges(s.pr.labels, STATUS_LABELS[recorded]) : undefined;
      if (settled && settled.add.length + settled.remove.length > 0 && !this.options.displayBehind) {
        this.alert("tamper", `tamper: the labels of ${s.owner}/${s.repo}#${s.pr.number} did not show its recorded status (${recorded}); restored`);
      }
    }
    // A request whose end is not yet recorded in git history carries this label, so the sweep finds
    // it again; a record that owes no revert PR does not (a person's label would cost a sweep each time).
    const owed = this.record ?? s.record;
    if (this.revertBlocked === undefined && owed && !s.displayUnread && !owed.revert_pending && s.pr.labels.includes(REVERT_BLOCKED_LABEL)) this.revertBlocked = false;
    if (this.revertBlocked !== undefined && this.revertBlocked !== s.pr.labels.includes(REVERT_BLOCKED_LABEL)) (this.revertBlocked ? add : remove).push(REVERT_BLOCKED_LABEL);
    await setLabels(gh, { ...ref, issue_number: s.pr.number }, s.pr.labels, add, remove);
    if (this.shown) await this.writeStatus(this.shown);
    else if (restore) await this.display.write(current);
  }
}

/** What a revert PR's outcome adds to the display: not merged (and why), branches refused as not the app's. */
function revertNotes(revert: RevertOutcome, accessGone: boolean): DisplayNote[] {
  return [
    ...(revert.merged ? [] : [{ kind: "revert-unmerged" as const, number: revert.number, reason: revert.blocked, accessGone }]),
    ...(revert.refused?.length ? [{ kind: "revert-refused" as const, refused: revert.refused }] : []),
  ];
}

/**
 * The labels changed in one write where GitHub allows it (labels are paced writes like any other):
 * only additions, one POST; a single removal, one DELETE; anything else, the whole set in one PUT,
 * built from the labels the snapshot read (a person's label change in the moment between that read
 * and this write is undone; the app's own labels are its display, and restored anyway).
 */
async function setLabels(gh: GitHub, issue: { owner: string; repo: string; issue_number: number }, current: readonly string[], add: readonly string[], remove: readonly string[]): Promise<void> {
  if (add.length === 0 && remove.length === 0) return;
  if (remove.length === 0) {
    await gh.rest.issues.addLabels({ ...issue, labels: [...add] });
  } else if (add.length === 0 && remove.length === 1) {
    await removeLabel(gh, { ...issue, name: remove[0]! });
  } else {
    await gh.rest.issues.setLabels({ ...issue, labels: [...current.filter((l) => !remove.includes(l)), ...add.filter((l) => !current.includes(l))] });
  }
}

/** A label that is already gone is what was wanted: never a failure (someone may have removed it). */
async function removeLabel(gh: GitHub, params: { owner: string; repo: string; issue_number: number; name: string }): Promise<void> {
  try {
    await gh.rest.issues.removeLabel(params);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
