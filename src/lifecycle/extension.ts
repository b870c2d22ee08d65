import type { Mention, RequestSnapshot } from "./snapshot.js";
export type { Mention } from "./snapshot.js";
import type { GrantRecord as CommentState } from "./record.js";

/**
 * Extensions (`jit extend`, docs/reference/cli.md): a new request for the same resource and role that
 * starts when a live grant ends. The original's status comment links to it.
 *
 * Which PR extends which is decided from app-only facts: GitHub's timeline says which PRs mention
 * the original (a `cross-referenced` event, which nobody can edit), and each candidate's own
 * record (this app's check run) says what it asks for. A candidate is an extension when that
 * record holds a grant of the same requester, resource and role starting at the original's
 * `expires_at`. The PR body's "Extends #N" only says which original to look at again; anybody can
 * write it, and it links nothing by itself. A link is a display: it never changes anyone's access.
 */

/** The original a request says it extends: "Extends #N" at the start of a line of its PR body. */
export function extendedRequest(body: string | null | undefined): number | undefined {
  const match = /^Extends #(\d{1,9})\b/m.exec(body ?? "");
  return match ? Number(match[1]) : undefined;
}

/**
 * The original to look at again after evaluating a request that says it extends one: when the
 * request's record has just changed status and asks for a scheduled start (so it may now verify
 * as an extension). A few times per request at most, whatever its body says.
 */
export function originalToRecheck(s: RequestSnapshot, after: CommentState | undefined): number | undefined {
  const original = s.pr.extends;
  if (original === undefined || original === s.pr.number || s.kind.kind !== "request") return undefined;
  if (!after?.status || after.status === s.record?.status || !after.grant?.start) return undefined;
  return original;
}

/** At most this many unverified mentions are looked at per evaluation (two requests each). */
export const MAX_EXTENSION_CANDIDATES = 3;
/** At most this many links: the record is a check run's text, which GitHub caps at 65,535 characters. */
export const MAX_EXTENSION_LINKS = 10;


/**
 * The mentions still worth a look: PRs the original's requester opened (an extension's author is
 * its requester, so nobody else's mention costs a request or crowds one out), newest first, none
 * already linked, never the PR itself; none once the links are full.
 */
export function extensionCandidates(self: number, requester: string, mentions: readonly Mention[], linked: readonly number[] = []): number[] {
  const known = new Set([self, ...linked]);
  const room = Math.min(MAX_EXTENSION_CANDIDATES, MAX_EXTENSION_LINKS - linked.length);
  const theirs = mentions.filter((m) => m.author.toLowerCase() === requester.toLowerCase()).map((m) => m.number);
  return [...new Set(theirs.reverse())].filter((n) => !known.has(n)).slice(0, Math.max(0, room));
}

/**
 * Whether `candidate`'s record asks to continue `original`'s live grant from its end. A rejected
 * request does not: a linked one that is rejected later drops out at the original's next
 * evaluation while the original is live (linked ones are checked again each time).
 */
export function isExtensionOf(original: CommentState, candidate: CommentState | undefined): boolean {
  const [a, b] = [original.grant, candidate?.grant];
  if (!a || !b || !candidate?.status || candidate.status === "REJECTED" || !original.expires_at || !b.start) return false;
  const same = (x: string, y: string) => x.toLowerCase() === y.toLowerCase();
  const ends = Date.parse(original.expires_at);
  return same(a.requester, b.requester) && a.resource === b.resource && a.role === b.role && !Number.isNaN(ends) && Date.parse(b.start) === ends;
}

/**
 * The extensions to show: those verified by this evaluation when it checked (a live grant: the
 * linked ones again, and new mentions), else those the record holds.
 */
export function extensionLinks(record: CommentState | undefined, verified: readonly number[] | undefined): number[] {
  return [...new Set(verified ?? record?.extended_by ?? [])].sort((x, y) => x - y);
}

/** Whether the links to show differ from those the record holds. */
export function linksChanged(record: CommentState | undefined, links: readonly number[]): boolean {
  const held = extensionLinks(record, undefined);
  return held.length !== links.length || held.some((n, i) => n !== links[i]);
}
