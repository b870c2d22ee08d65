import type { Diagnostic } from "../diagnostics.js";
import type { CheckPlan, Decision } from "../lifecycle/decide.js";
import type { RequestSnapshot } from "../lifecycle/snapshot.js";
import { CHECK_NAME, labelChanges } from "../lifecycle/status.js";
import type { GitHub } from "./client.js";

export interface ExecuteOptions {
  appId: number;
  log: { info(msg: string): void; warn(msg: string): void };
}

/** GitHub takes at most 50 annotations per check-run request. */
const MAX_ANNOTATIONS = 50;

/**
 * Makes GitHub match a decision. Each step compares with what is there first, so a
 * redelivered webhook or a second replica changes nothing and spends few requests.
 * Order matters: the check is set before a merge (branch protection may require it), and
 * the comment is written last so it can report a merge that failed.
 */
export async function execute(gh: GitHub, s: RequestSnapshot, d: Decision, options: ExecuteOptions): Promise<void> {
  const ref = { owner: s.owner, repo: s.repo };
  if (d.check) await upsertCheck(gh, s, d.check, options.appId);
  if (d.label !== undefined) {
    const { add, remove } = labelChanges(s.pr.labels, d.label);
    for (const name of remove) await gh.rest.issues.removeLabel({ ...ref, issue_number: s.pr.number, name });
    if (add.length > 0) await gh.rest.issues.addLabels({ ...ref, issue_number: s.pr.number, labels: add });
  }
  let comment = d.comment;
  for (const action of d.actions) {
    if (action.type === "merge") {
      try {
        await gh.rest.pulls.merge({ ...ref, pull_number: s.pr.number, sha: action.sha, merge_method: "squash", commit_title: action.title, commit_message: action.message });
        options.log.info(`merged ${s.owner}/${s.repo}#${s.pr.number}`);
      } catch (error) {
        const message = (error as Error).message;
        options.log.warn(`merge of ${s.owner}/${s.repo}#${s.pr.number} failed: ${message}`);
        if (comment) comment = appendNote(comment, `⚠️ **jit-access could not merge this pull request:** ${message.replace(/[\r\n]+/g, " ").slice(0, 300)}. It is tried again on the next change; a person may merge it.`);
      }
    } else if (action.type === "close") {
      if (s.pr.state === "open") await gh.rest.pulls.update({ ...ref, pull_number: s.pr.number, state: "closed" });
    }
  }
  if (comment !== undefined && comment !== s.comment?.body) {
    if (s.comment) await gh.rest.issues.updateComment({ ...ref, comment_id: s.comment.id, body: comment });
    else await gh.rest.issues.createComment({ ...ref, issue_number: s.pr.number, body: comment });
  }
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
  if (existing && reusable) {
    const same =
      existing.status === plan.status &&
      (existing.conclusion ?? undefined) === plan.conclusion &&
      existing.output.title === plan.title &&
      existing.output.summary === output.summary;
    if (same) return;
    await gh.rest.checks.update({ ...ref, check_run_id: existing.id, ...state, output });
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
