import { readState } from "../lifecycle/codec.js";
import type { GrantRecord } from "../lifecycle/record.js";
import type { CheckRun, RequestSnapshot } from "../lifecycle/snapshot.js";
import { CHECK_NAME } from "../lifecycle/status.js";
import type { Annotation, CheckPlan } from "../present/check.js";
import { isNotFound, type GitHub } from "./client.js";
import { readCheck, recordKey } from "./record.js";

/** GitHub takes at most 50 annotations per check-run request. */
const MAX_ANNOTATIONS = 50;

/**
 * The grant's record (this app's check run, see record.ts), written before its display: a crash
 * between the two leaves the truth ahead of the display, never behind it. Unchanged text is not
 * re-sent. One per evaluation: what it has written is known without reading it back.
 *
 * On a head another PR's record claims (`headClaimedBy`), a PR that has no run there gets none:
 * its refusal is shown in its status comment only, and branch protection requiring the
 * `jit-access` check keeps it unmergeable (fails closed). Otherwise anyone could open a hundred
 * PRs from a live grant's head and bury its record under their refusals.
 *
 * GitHub deletes the oldest runs beyond 1,000 of one name in one check suite. Only a PR's own
 * evaluations write runs on its head, so that cap cannot be reached by others; and a merged PR's
 * record is only ever updated in place (`put` creates a run only when there is none, and no
 * decision about a merged request asks for a check), so its run is never among the oldest
 * beyond the cap. An open PR adds a run only when a completed check must go back in progress,
 * and the newest run always carries the record along.
 */
export class RecordStore {
  private check: CheckRun | undefined;
  /** The run was created by this evaluation: nobody else can have written it since. */
  private createdHere = false;
  /** The record was read again during this evaluation. */
  private reread = false;

  constructor(
    private readonly gh: GitHub,
    private readonly s: RequestSnapshot,
  ) {
    this.check = s.check;
  }

  private get ref() {
    return { owner: this.s.owner, repo: this.s.repo };
  }

  /** The check run as this evaluation last read or wrote it (undefined: none). */
  get run(): CheckRun | undefined {
    return this.check;
  }

  /** The record's text as last written ("" or undefined before the first). */
  get current(): string | undefined {
    return this.check?.text || undefined;
  }

  /** `gh`: the client to write with (the urgent lane inside a grant's turn, see execute.ts). */
  async put(text: string, gh: GitHub = this.gh): Promise<void> {
    if (text === this.check?.text) return;
    if (this.check) {
      await gh.rest.checks.update({ ...this.ref, check_run_id: this.check.id, output: { title: this.check.title, summary: this.check.summary, text } });
      this.check = { ...this.check, text };
      return;
    }
    if (this.s.headClaimedBy !== undefined) return; // another PR's head: nothing of this one is written on it
    // A merged request the app never saw open (its webhooks were lost): the record starts here.
    const title = "Recorded by jit-access";
    const summary = "This check run holds jit-access's record of this request; the status comment on the pull request shows it.";
    const { data } = await gh.rest.checks.create({ ...this.ref, name: CHECK_NAME, external_id: recordKey({ repoId: this.s.repoId, number: this.s.pr.number }), head_sha: this.s.pr.headSha, status: "completed", conclusion: "neutral", output: { title, summary, text } });
    this.check = { id: data.id, status: "completed", conclusion: "neutral", title, summary, text };
    this.createdHere = true;
  }

  /**
   * The record as it is on GitHub now (only this app writes it: another replica may have). Read
   * once per evaluation; after that, and after this evaluation's own writes, what it holds is known.
   */
  /** `gh`: the client to read with (as for put). */
  async fresh(gh: GitHub = this.gh): Promise<GrantRecord | undefined> {
    if (!this.check) return undefined;
    if (!this.createdHere && !this.reread) {
      this.check = { ...this.check, text: (await readCheck(gh, this.ref, this.check.id)).text };
      this.reread = true;
    }
    return readState(this.check.text);
  }

  /** The `jit-access` check the decision wants, carrying the record's text along (`text`, or the current one). */
  async setCheck(plan: CheckPlan, text: string | undefined): Promise<void> {
    const output = { title: plan.title, summary: plan.summary.slice(0, 65_000), text: text ?? this.check?.text ?? "", annotations: plan.annotations.slice(0, MAX_ANNOTATIONS).map(annotation) };
    const state = plan.status === "completed" ? { status: "completed" as const, conclusion: plan.conclusion! } : { status: "in_progress" as const };
    const existing = this.check;
    // A completed run is not reopened (GitHub would keep its old conclusion): a newer run replaces it, record included.
    const reusable = existing && !(existing.status === "completed" && plan.status !== "completed") ? existing : undefined;
    const next = { status: state.status, conclusion: plan.conclusion ?? null, title: plan.title, summary: output.summary, text: output.text };
    if (reusable) {
      const same = reusable.status === plan.status && (reusable.conclusion ?? undefined) === plan.conclusion && reusable.title === plan.title && reusable.summary === output.summary && reusable.text === output.text;
      if (same) return;
      // GitHub adds an update's annotations to those the run has: the warnings on lines that widen
      // access (the same for a head) were written when the run was created, and are not repeated.
      const annotations = output.annotations.filter((a) => a.annotation_level === "failure");
      await this.gh.rest.checks.update({ ...this.ref, check_run_id: reusable.id, ...state, output: { ...output, annotations } });
      this.check = { id: reusable.id, ...next };
    } else if (this.s.headClaimedBy === undefined) {
      const { data } = await this.gh.rest.checks.create({ ...this.ref, name: CHECK_NAME, external_id: recordKey({ repoId: this.s.repoId, number: this.s.pr.number }), head_sha: this.s.pr.headSha, ...state, output });
      this.check = { id: data.id, ...next };
      this.createdHere = true;
    }
  }
}

/** The status comment on the PR: a display of the record for people, restored when someone changes it. */
export class StatusDisplay {
  private commentId: number | undefined;
  private body: string | undefined;
  /** The snapshot did not read the timeline: the comment is looked up before the first write. */
  private unread: boolean;

  constructor(
    private readonly gh: GitHub,
    private readonly s: RequestSnapshot,
    private readonly find?: () => Promise<{ id: number; body: string } | undefined>,
  ) {
    this.commentId = s.comment?.id;
    this.body = s.comment?.body;
    this.unread = !!s.displayUnread && !!find;
  }

  /** The display no longer shows the record: someone edited or deleted the app's comment (unknown when not read: assumed shown). */
  shows(recordText: string | undefined): boolean {
    return recordText === undefined || this.unread || this.body === recordText;
  }

  async write(text: string): Promise<void> {
    const ref = { owner: this.s.owner, repo: this.s.repo };
    if (this.unread) {
      const found = await this.find!();
      this.unread = false;
      this.commentId = found?.id;
      this.body = found?.body;
    }
    if (text === this.body) return;
    if (this.commentId) {
      try {
        await this.gh.rest.issues.updateComment({ ...ref, comment_id: this.commentId, body: text });
      } catch (error) {
        if (!isNotFound(error)) throw error;
        this.commentId = undefined; // deleted meanwhile: post it again
      }
    }
    if (!this.commentId) this.commentId = (await this.gh.rest.issues.createComment({ ...ref, issue_number: this.s.pr.number, body: text })).data.id;
    this.body = text;
  }
}

function annotation(d: Annotation) {
  const sameLine = d.line === d.endLine;
  return {
    path: d.path,
    start_line: d.line,
    end_line: d.endLine,
    ...(sameLine ? { start_column: d.column, end_column: Math.max(d.column, d.endColumn) } : {}),
    annotation_level: d.level ?? ("failure" as const),
    message: d.message,
    title: "jit-access",
  };
}
