/**
 * The `/jit` command grammar, in one place: the app reads commands with it (from timelines and
 * from signed `issue_comment.created` deliveries) and the CLI writes them with it.
 *
 *   /jit reject [reason]   an approver vetoes an open request
 *   /jit revoke [reason]   the requester, an approver or an admin ends a grant early
 *                          (or withdraws a merged grant that has not started yet)
 *
 * A command is the first line of a comment that starts with `/jit`; the reason is the rest of
 * that line, at most 500 characters.
 */
export type CommandName = "reject" | "revoke";

export interface CommentCommand {
  id: number;
  login: string;
  command: CommandName;
  reason: string;
  createdAt: string;
}

const COMMAND = /^\/jit\s+(reject|revoke)\b[ \t]*(.*)$/m;
const MAX_REASON = 500;

/** The command a comment body carries, if any. */
export function parseCommand(body: string): { command: CommandName; reason: string } | undefined {
  const text = body.trim();
  if (!text.startsWith("/jit")) return undefined;
  const match = COMMAND.exec(text);
  return match ? { command: match[1] as CommandName, reason: (match[2] ?? "").trim().slice(0, MAX_REASON) } : undefined;
}

/** The text of a command as the CLI posts it: one line, whatever the reason held. */
export function commandText(command: CommandName, reason?: string): string {
  const line = reason?.replace(/[\r\n]+/g, " ").trim();
  return `/jit ${command}${line ? ` ${line}` : ""}`;
}

/**
 * Commands of one request, oldest first, without repeats: those GitHub's signed deliveries
 * carried (as first written: a later edit or deletion by anyone cannot change them) and those
 * read from the timeline (unedited comments only).
 */
export function mergeCommands(...lists: readonly (readonly CommentCommand[])[]): CommentCommand[] {
  const byId = new Map<number, CommentCommand>();
  for (const list of lists) for (const c of list) if (!byId.has(c.id)) byId.set(c.id, c);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}
