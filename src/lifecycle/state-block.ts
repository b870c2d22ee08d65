import type { Grant } from "../schemas/grant.js";

/**
 * The status comment carries a machine-readable block, so the app keeps its state in GitHub
 * rather than in memory. Only comments written by this app are trusted for it (the adapter
 * checks `performed_via_github_app`): anyone can type the marker into a comment of their own.
 */
export const COMMENT_MARKER = "<!-- jit-access:status -->";
/** Where the state block starts in a status body. */
export const STATE_PREFIX = "<!-- jit-access:state ";
const STATE_SUFFIX = " -->";

/**
 * Statuses beyond the five public ones are internal steps of an approved grant, shown with
 * the `jit:pending` label: SCHEDULED (merged, waits for `start`) and APPLYING (merged, the
 * provider has not confirmed yet; retried with backoff).
 */
export type StateStatus = "PENDING" | "SCHEDULED" | "APPLYING" | "APPROVED" | "REJECTED" | "REVOKED" | "EXECUTED";

export interface CommentState {
  v: 1;
  status: StateStatus | null;
  /** The grant file and its blob: the exact content the state refers to. */
  path?: string;
  blob?: string;
  /** What was approved, recorded at merge so later steps need not re-read the file. */
  grant?: Grant;
  /** Units of access the requester held before this grant was applied: never revoked. */
  standing?: string[];
  starts_at?: string;
  expires_at?: string;
  applied_at?: string;
  /** Failed provider attempts so far, the next one, and the last error (secrets redacted). */
  attempts?: number;
  next_attempt_at?: string;
  error?: string;
  revert_pr?: number;
  /** Where the access lives, recorded when applied, so it can be revoked even if the policy changes later. Names of environment variables only. */
  target?: { provider: string; config: Record<string, unknown>; grant: Record<string, unknown> };
  /** True while the revert PR recording the end has not been merged; what it must delete. */
  revert_pending?: boolean;
  revert_path_blob?: [string, string];
  /** Whose approvals counted (they may `/jit revoke`), and when the requester is warned. */
  approvers?: string[];
  warn_at?: string;
  warned_at?: string;
  /** The end: when access was actually taken away, and why. */
  revoked_at?: string;
  ended_by?: string;
  /**
   * An end that was decided but whose revoke has not succeeded yet: retries carry it out whatever
   * happens meanwhile to the comment or review that asked for it (deleted, edited, dismissed).
   */
  ending?: { status: "EXECUTED" | "REVOKED"; endedBy: string; revert: boolean };
  /** Failed revokes: retried with backoff, never reported as done. */
  revoke_attempts?: number;
  next_revoke_at?: string;
  revoke_error?: string;
  /** While pending: the approver groups still missing (for `jit status`). */
  waiting_for?: string[];
  /** Notification events already sent for this request: each goes out once. */
  notified?: string[];
  /** Where a rejection came from, for people and notifications. */
  rejected_by?: string;
  /** `/jit revoke` comments already answered (refused), so each gets one reply. */
  answered?: number[];
  /** Requests verified to extend this grant from its end (see lifecycle/extension.ts): linked from the comment. */
  extended_by?: number[];
}

function stateBlock(state: CommentState): string {
  // Canonical (v first, then keys in order): the same state always gives the same text, so an
  // unchanged comment is recognised and not written again, however the state was assembled.
  const canonical = Object.fromEntries(Object.entries(state).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a === "v" ? -1 : b === "v" ? 1 : a.localeCompare(b))));
  // JSON cannot contain "-->" once "<" and ">" are escaped, so the block cannot be closed early.
  const json = JSON.stringify(canonical).replace(/</g, "\\u003c").replace(/>/g, "\\u003e");
  return `${STATE_PREFIX}${json}${STATE_SUFFIX}\n`;
}

export function embedState(body: string, state: CommentState): string {
  return `${COMMENT_MARKER}\n${body.trimEnd()}\n\n${stateBlock(state)}`;
}

/** The same comment with a new state block (its text unchanged). */
export function replaceState(comment: string, state: CommentState): string {
  const at = comment.lastIndexOf(STATE_PREFIX);
  return `${at < 0 ? `${comment.trimEnd()}\n\n` : comment.slice(0, at)}${stateBlock(state)}`;
}

export function readState(body: string): CommentState | undefined {
  const start = body.lastIndexOf(STATE_PREFIX);
  if (start < 0) return undefined;
  const end = body.indexOf(STATE_SUFFIX, start + STATE_PREFIX.length);
  if (end < 0) return undefined;
  try {
    const value = JSON.parse(body.slice(start + STATE_PREFIX.length, end)) as CommentState;
    return value && value.v === 1 ? value : undefined;
  } catch {
    return undefined;
  }
}
