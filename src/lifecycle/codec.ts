import type { GrantRecord } from "./record.js";

/**
 * The record's text format, and the only code that knows it. A record is written as the body of
 * the status comment (what people read) followed by a machine-readable state block; the same text
 * is the check run's `output.text` (the record itself, which only this app can change) and the
 * comment on the PR (a display, restored from the check run when someone edits it).
 */
export const COMMENT_MARKER = "<!-- jit-access:status -->";
/** Where the state block starts in a status body. */
export const STATE_PREFIX = "<!-- jit-access:state ";
const STATE_SUFFIX = " -->";

function stateBlock(state: GrantRecord): string {
  // Canonical (v first, then keys in order): the same state always gives the same text, so an
  // unchanged comment is recognised and not written again, however the state was assembled.
  const canonical = Object.fromEntries(Object.entries(state).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a === "v" ? -1 : b === "v" ? 1 : a.localeCompare(b))));
  // JSON cannot contain "-->" once "<" and ">" are escaped, so the block cannot be closed early.
  const json = JSON.stringify(canonical).replace(/</g, "\\u003c").replace(/>/g, "\\u003e");
  return `${STATE_PREFIX}${json}${STATE_SUFFIX}\n`;
}

/** A display body and its record, as one text: the marker, the body, the state block last. */
export function embedState(body: string, state: GrantRecord): string {
  return `${COMMENT_MARKER}\n${body.trimEnd()}\n\n${stateBlock(state)}`;
}

/** The record a text holds; undefined when it holds none (or one this version cannot read). */
export function readState(text: string): GrantRecord | undefined {
  const start = text.lastIndexOf(STATE_PREFIX);
  if (start < 0) return undefined;
  const end = text.indexOf(STATE_SUFFIX, start + STATE_PREFIX.length);
  if (end < 0) return undefined;
  try {
    const value = JSON.parse(text.slice(start + STATE_PREFIX.length, end)) as GrantRecord;
    return value && value.v === 1 ? value : undefined;
  } catch {
    return undefined;
  }
}

export type { GrantRecord, CommentState, StateStatus } from "./record.js";
