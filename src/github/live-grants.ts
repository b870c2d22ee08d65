import pMap from "p-map";
import { parseGrant } from "../grant/parse.js";
import { STATUS_LABELS } from "../lifecycle/status.js";
import { targetOf } from "../lifecycle/live.js";
import type { RequestSnapshot } from "../lifecycle/snapshot.js";
import { readState, type CommentState } from "../lifecycle/codec.js";
import { parseGrantPath, POLICY_PATH } from "../policy/paths.js";
import type { GrantTarget } from "../providers/types.js";
import type { GitHub, RepoRef } from "./client.js";
import { mergedPullsOf, requestsThatAdded, type Origin } from "./grant-origin.js";
import { loadCheck, type RecordRef } from "./record.js";

/**
 * The live set (docs/reference/invariants.md, invariant 7): the grant files present on the default branch, each
 * with the request PR that added it and that PR's record (this app's check run). Labels and
 * comments play no part: removing `jit:approved` hides nothing, adding it revives nothing.
 * A file on the branch is live only while its record says applied and its window is open; an
 * ended grant whose revert PR has not merged yet still has its file, but not its access.
 */
export interface LiveGrant {
  number: number;
  path: string;
  target: GrantTarget;
  /** Units the requester held before this grant, not through another grant (never revoked by it). */
  standing: string[];
  /** Its window's end, when recorded (an attempt that failed before recording its window has none). */
  expiresAt: string | undefined;
}

export interface GrantFile {
  path: string;
  blobSha: string;
}

/** `except` and `path`: the grant being applied or revoked itself (its own file is not "another grant"). */
export type LiveGrantLister = (gh: GitHub, ref: RepoRef, q: { defaultBranch: string; except: number; path: string; requester: string; requesterId?: number; appId: number; now: Date; repoId: number }) => Promise<LiveGrant[]>;

/**
 * Grant files' requesters, by blob SHA: content-addressed, so never stale. Reads in progress are
 * kept too, so a burst of revokes (each looking at every grant file) reads each blob once.
 */
const requesterByBlob = new Map<string, Promise<string | null>>();
/**
 * The merged PRs associated with a commit of the default branch: a commit's history does not change.
 * A path's list of commits does — a later request may add the same file again, even with the same
 * content — so that list is read each time, one request per grant file of the person.
 */
const pullsByCommit = new Map<string, Promise<Origin[]>>();
const MAX_CACHED = 10_000;

/** Forgets every cached fact (tests: each starts from an empty cache). */
export function resetLiveGrantCaches(): void {
  requesterByBlob.clear();
  pullsByCommit.clear();
}

/** The cached fact, or `read` started once and shared; a failed read is forgotten (tried again next time). */
function remember<K, V>(map: Map<K, Promise<V>>, key: K, read: () => Promise<V>): Promise<V> {
  const known = map.get(key);
  if (known) return known;
  if (map.size >= MAX_CACHED) map.delete(map.keys().next().value!);
  const reading = read();
  map.set(key, reading);
  reading.catch(() => map.get(key) === reading && map.delete(key));
  return reading;
}

/** The default branch's tree, one request: whether it holds a policy, and its grant files. */
export async function grantFilesOn(gh: GitHub, ref: RepoRef, branch: string): Promise<{ hasPolicy: boolean; files: GrantFile[] }> {
  const { data } = await gh.rest.git.getTree({ owner: ref.owner, repo: ref.repo, tree_sha: branch, recursive: "true" });
  const files = data.tree.filter((e) => e.type === "blob" && e.path && e.sha && parseGrantPath(e.path)).map((e) => ({ path: e.path!, blobSha: e.sha! }));
  return { hasPolicy: data.tree.some((e) => e.path === POLICY_PATH && e.type === "blob"), files };
}

export async function originsOf(gh: GitHub, ref: RepoRef, branch: string, file: GrantFile): Promise<Origin[]> {
  return requestsThatAdded(gh, ref, branch, file.path, async (gh, ref, branch, sha) => {
    const key = `${ref.owner}/${ref.repo}:${sha}`.toLowerCase();
    const pulls = await remember(pullsByCommit, key, () => mergedPullsOf(gh, ref, branch, sha));
    // GitHub may link a fresh merge commit to its PR a moment late: an empty answer is asked again next time.
    if (pulls.length === 0) pullsByCommit.delete(key);
    return pulls;
  });
}

/** A request's record, read from its check run. */
export async function recordOf(gh: GitHub, ref: RecordRef, headSha: string, appId: number): Promise<CommentState | undefined> {
  const { run } = await loadCheck(gh, ref, headSha, appId);
  return run ? readState(run.text) : undefined;
}

/**
 * The requester of a blob, known without reading it: a record names the blob it judged and the
 * requester parsed from it (content-addressed, so the same for every file with that blob).
 */
export function rememberRequester(blobSha: string, requester: string): void {
  if (requesterByBlob.has(blobSha)) return;
  if (requesterByBlob.size >= MAX_CACHED) requesterByBlob.delete(requesterByBlob.keys().next().value!);
  requesterByBlob.set(blobSha, Promise.resolve(requester.toLowerCase()));
}

function requesterOf(gh: GitHub, ref: RepoRef, file: GrantFile): Promise<string | null> {
  return remember(requesterByBlob, file.blobSha, async () => {
    const { data } = await gh.rest.git.getBlob({ owner: ref.owner, repo: ref.repo, file_sha: file.blobSha });
    const parsed = parseGrant(file.path, Buffer.from(data.content, "base64"));
    return parsed.ok ? parsed.grant.requester.toLowerCase() : null;
  });
}

/**
 * May hold access at the target: applied and not yet revoked — whether or not its window has
 * passed, its units stay its own until its revoke, never someone's standing access — or being
 * applied (its standing is recorded first, so its apply may already have reached the target).
 */
export function mayHoldAccess(state: CommentState | undefined): state is CommentState {
  return !!state && !!state.target && !!state.grant && (state.status === "APPROVED" || (state.status === "APPLYING" && state.standing !== undefined));
}

/**
 * Still gives its units after `now`, so another grant's revoke must leave them. An attempt whose
 * window was not recorded counts: its own end takes its units away.
 */
export function stillGives(grant: LiveGrant, now: Date): boolean {
  return grant.expiresAt === undefined || now.getTime() < Date.parse(grant.expiresAt);
}

/**
 * The requester's other grants in a repository that may hold access (see mayHoldAccess; a revoke
 * keeps only the units of those that stillGive). Reference counting reads O(that person's
 * grants): one tree read, blobs only for files not seen before, and one record per grant of theirs.
 */
/** Blob reads in flight at once for one lookup (GitHub asks integrations to keep concurrency modest). */
const REQUESTER_READS = 20;

function atMostInFlight<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  // At most `size` in flight, the next starting as soon as one ends (p-map: a sliding window, not batches).
  return pMap(items, work, { concurrency: size });
}

/**
 * Reads (and caches, by blob SHA) the requester of every grant file: the start-up rebuild does it
 * once, so that the revokes that follow — a burst of expiries after downtime — need no blob read.
 */
export async function learnRequesters(gh: GitHub, ref: RepoRef, files: readonly GrantFile[]): Promise<void> {
  await atMostInFlight(files, REQUESTER_READS, (file) => requesterOf(gh, ref, file));
}

/** Grant files of one person that reference counting reads the history and record of (each costs about three reads). */
export const MAX_FILES_PER_PERSON = 25;
/** Grant files whose requester is not known yet that one lookup reads (a burst pushed straight to the default branch). */
export const MAX_UNKNOWN_FILES = 100;

/**
 * The live set could not be read within its bounds: more grant files than any real use makes (they
 * were pushed straight to the default branch). Not knowing the other grants, the caller fails safe.
 */
export class TooManyGrantFiles extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TooManyGrantFiles";
  }
}

export const listLiveGrants: LiveGrantLister = async (gh, ref, q) => {
  const out: LiveGrant[] = [];
  const { files } = await grantFilesOn(gh, ref, q.defaultBranch);
  // Requesters of files not seen before are read a few at a time, not one after another: after a
  // restart the first revoke of a burst would otherwise wait for every blob in turn (100 files at
  // 200 ms a request: 20 s past expires_at).
  const others = files.filter((f) => f.path !== q.path);
  // Grant files pushed straight to the default branch cost reads on every apply and revoke of the
  // person they name: past these bounds the lookup is refused (TooManyGrantFiles), and each caller
  // fails safe — an apply waits, a revoke takes everything but recorded standing access.
  const unknown = others.filter((f) => !requesterByBlob.has(f.blobSha));
  if (unknown.length > MAX_UNKNOWN_FILES) {
    // Learned a bounded number at a time: the next lookup goes on from there.
    await atMostInFlight(unknown.slice(0, MAX_UNKNOWN_FILES), REQUESTER_READS, (file) => requesterOf(gh, ref, file));
    throw new TooManyGrantFiles(`${unknown.length} grant files on ${q.defaultBranch} were not read yet (at most ${MAX_UNKNOWN_FILES} a lookup)`);
  }
  const requesters = await atMostInFlight(others, REQUESTER_READS, (file) => requesterOf(gh, ref, file));
  const theirs = others.filter((_, i) => requesters[i] === q.requester.toLowerCase()).length;
  if (theirs > MAX_FILES_PER_PERSON) throw new TooManyGrantFiles(`${theirs} grant files on ${q.defaultBranch} name ${q.requester} (at most ${MAX_FILES_PER_PERSON})`);
  for (const [i, file] of others.entries()) {
    if (requesters[i] !== q.requester.toLowerCase()) continue;
    for (const origin of await originsOf(gh, ref, q.defaultBranch, file)) {
      if (origin.number === q.except) continue;
      const state = await recordOf(gh, { ...ref, repoId: q.repoId, number: origin.number }, origin.headSha, q.appId);
      if (!mayHoldAccess(state)) continue;
      // The same login, but another person (it was renamed away, then taken): compared by id where
      // both records have one. Files are still found by the login they name, as before.
      if (q.requesterId !== undefined && state.requester_id !== undefined && state.requester_id !== q.requesterId) continue;
      out.push(liveGrantOf(ref, origin.number, `https://github.com/${ref.owner}/${ref.repo}/pull/${origin.number}`, state, file.path));
    }
  }
  return out;
};

/**
 * The live set as the files show it, plus the grants `known` names (the scheduler's index: every
 * grant this process has seen recorded as holding access) that the files no longer show. Standing
 * comes only from the person's own records: a grant whose file left the default branch by a direct
 * push (no PR, no event) is still live until its record says it ended, and its units are its own,
 * never the next grant's standing access. Two reads per such grant (its head, its record).
 */
export function withKnownGrants(files: LiveGrantLister, known: (ref: RepoRef, requester: string) => { number: number }[]): LiveGrantLister {
  return async (gh, ref, q) => {
    const listed = await files(gh, ref, q);
    const extra = known(ref, q.requester).filter((k) => k.number !== q.except && !listed.some((g) => g.number === k.number));
    for (const { number } of extra) {
      const grant = await liveGrantAt(gh, ref, number, q);
      if (grant) listed.push(grant);
    }
    return listed;
  };
}

/** Merged requests of one person read by labelledLiveGrants at most (newest first). */
const MAX_LABELLED = 20;

/**
 * The person's merged requests that show a live or applying grant (`jit:approved`, `jit:pending`),
 * by their records: asked only when an apply finds the person already holding what it gives, to
 * be sure no grant of theirs gives it (its file may have left the default branch). Two searches,
 * then two reads a request.
 */
export async function labelledLiveGrants(gh: GitHub, ref: RepoRef, q: { requester: string; except: number; appId: number; repoId: number }): Promise<LiveGrant[]> {
  const out: LiveGrant[] = [];
  const numbers = new Set<number>();
  for (const label of [STATUS_LABELS.APPROVED, STATUS_LABELS.PENDING]) {
    const { data } = await gh.rest.search.issuesAndPullRequests({ q: `repo:${ref.owner}/${ref.repo} is:pr is:merged author:${q.requester} label:"${label}"`, per_page: MAX_LABELLED });
    for (const item of data.items) if (item.number !== q.except) numbers.add(item.number);
  }
  for (const number of [...numbers].slice(0, MAX_LABELLED)) {
    const grant = await liveGrantAt(gh, ref, number, q);
    if (grant) out.push(grant);
  }
  return out;
}

/** A request's grant as reference counting sees it, from its record; with its requester's id where recorded. */
function liveGrantOf(ref: RepoRef, number: number, url: string, state: CommentState, path: string): LiveGrant {
  const s = { owner: ref.owner, repo: ref.repo, pr: { number, url } } as RequestSnapshot;
  const target = targetOf(s, state);
  return { number, path, target: state.requester_id !== undefined ? { ...target, requesterId: state.requester_id } : target, standing: state.standing ?? [], expiresAt: state.expires_at };
}

/** The grant of a request known by its number (its head, then its record), when it may hold access. Two reads. */
async function liveGrantAt(gh: GitHub, ref: RepoRef, number: number, q: { appId: number; repoId: number }): Promise<LiveGrant | undefined> {
  const { data: pr } = await gh.rest.pulls.get({ owner: ref.owner, repo: ref.repo, pull_number: number });
  const state = await recordOf(gh, { ...ref, repoId: q.repoId, number }, pr.head.sha, q.appId);
  return mayHoldAccess(state) ? liveGrantOf(ref, number, pr.html_url, state, state.path ?? "") : undefined;
}
