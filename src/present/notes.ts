import { escapeMarkdown } from "./render.js";

/**
 * What an effect's outcome adds to the display for people, besides the record: a merge GitHub
 * refused, a revert PR that could not be merged or opened. Plain data, drawn under the comment.
 */
export type DisplayNote =
  | { kind: "merge-failed"; message: string }
  | { kind: "revert-unmerged"; number: number; reason: string | undefined; accessGone: boolean }
  | { kind: "revert-refused"; refused: string[] }
  | { kind: "revert-not-opened" };

export function notesText(notes: readonly DisplayNote[]): string {
  return notes.map(noteText).join("\n\n");
}

function noteText(note: DisplayNote): string {
  switch (note.kind) {
    case "merge-failed":
      return `⚠️ **jit-access could not merge this pull request:** ${note.message}. It is tried again on the next change; a person may merge it.`;
    case "revert-unmerged":
      return note.accessGone
        ? `⚠️ The revert pull request #${note.number} could not be merged: ${note.reason ?? "it is not open"}. The access is already gone; a person must merge it to record the end.`
        : `⚠️ The revert pull request #${note.number} could not be merged: ${note.reason ?? "it is not open"}. A person must merge it.`;
    case "revert-refused":
      return `🚨 jit-access refused to merge changes it did not make under its revert branch names: ${note.refused.map(escapeMarkdown).join("; ")}. The security team has been alerted in the app's log.`;
    case "revert-not-opened":
      return "⚠️ The revert pull request could not be opened; jit-access tries again. The access is already gone.";
  }
}
