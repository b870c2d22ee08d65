import type { CommentCommand } from "../lifecycle/commands.js";

/**
 * `/jit` commands as GitHub's signed `issue_comment.created` deliveries carried them, kept until an
 * evaluation of their request has taken them into account. A command counts as first written:
 * the requester (anyone with write access) can edit or delete an approver's `/jit reject` before
 * the app reads the timeline, and GitHub's timestamps cannot tell such an edit apart reliably. The
 * delivery is what was written, so the evaluation uses it whatever the comment says by then.
 *
 * In memory, bounded: a restart loses what was not evaluated yet, and the timeline (unedited
 * comments) is then the only source, as before. Each replica keeps what it heard.
 */
const MAX_PER_PERSON = 5;
const MAX_REQUESTS = 20_000;
const KEEP_MS = 24 * 3_600_000;

export class HeardCommands {
  private readonly byRequest = new Map<string, { at: number; commands: CommentCommand[] }>();

  constructor(private readonly now: () => number = Date.now) {}

  heard(key: string, command: CommentCommand): void {
    this.expire();
    const entry = this.byRequest.get(key) ?? { at: this.now(), commands: [] };
    // Bounded per person, first written kept: one person's flood of commands cannot push out what
    // another (an approver's veto) wrote before or after it.
    const theirs = entry.commands.filter((c) => c.login.toLowerCase() === command.login.toLowerCase()).length;
    if (!entry.commands.some((c) => c.id === command.id) && theirs < MAX_PER_PERSON) entry.commands = [...entry.commands, command];
    entry.at = this.now();
    this.byRequest.delete(key);
    this.byRequest.set(key, entry);
    while (this.byRequest.size > MAX_REQUESTS) this.byRequest.delete(this.byRequest.keys().next().value!);
  }

  /** What was heard for a request and not yet taken into account. */
  of(key: string): CommentCommand[] {
    return this.byRequest.get(key)?.commands ?? [];
  }

  /** An evaluation that saw these commands completed: they are in its record now (or decided nothing). */
  settled(key: string, ids: readonly number[]): void {
    const entry = this.byRequest.get(key);
    if (!entry) return;
    entry.commands = entry.commands.filter((c) => !ids.includes(c.id));
    if (entry.commands.length === 0) this.byRequest.delete(key);
  }

  private expire(): void {
    const cutoff = this.now() - KEEP_MS;
    for (const [key, entry] of this.byRequest) if (entry.at < cutoff) this.byRequest.delete(key);
  }
}
