import { parseGrant } from "../grant/parse.js";
import { targetOf } from "../lifecycle/live.js";
import type { RequestSnapshot } from "../lifecycle/snapshot.js";
import { readState, type CommentState } from "../lifecycle/state-block.js";
import { parseGrantPath, POLICY_PATH } from "../policy/paths.js";
import type { GrantTarget } from "../providers/types.js";
import type { GitHub, RepoRef } from "./client.js";
import { requestsThatAdded } from "./grant-origin.js";
import { loadCheck } from "./record.js";

/**
 * The live set (PRODUCT.md invariant 7): the grant files present on the default branch, each
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
  /** The provider confirmed it (APPROVED); otherwise an apply was attempted and may have given access. */
  confirmed: boolean;
}

export interface GrantFile {
  path: string;
  blobSha: string;
}

/** `except` and `path`: the grant being applied or revoked itself (its own file is not "another grant"). */
export type LiveGrantLister = (gh: GitHub, ref: RepoRef, q: { defaultBranch: string; except: number; path: string; requester: string; appId: number; now: Date }) => Promise<LiveGrant[]>;

/** Grant files' requesters, by blob SHA: content-addressed, so never stale. */
const requesterByBlob = new Map<string, string | null>();
/** Which request PRs added a file with this content at this path: history does not change. */
const originByFile = new Map<string, { number: number; headSha: string }[]>();
const MAX_CACHED = 10_000;

/** Forgets every cached fact (tests: each starts from an empty cache). */
export function resetLiveGrantCaches(): void {
  requesterByBlob.clear();
  originByFile.clear();
}

function remember<K, V>(map: Map<K, V>, key: K, value: V): V {
  if (map.size >= MAX_CACHED) map.delete(map.keys().next().value!);
  map.set(key, value);
  return value;
}

/** The default branch's tree, one request: whether it holds a policy, and its grant files. */
export async function grantFilesOn(gh: GitHub, ref: RepoRef, branch: string): Promise<{ hasPolicy: boolean; files: GrantFile[] }> {
  const { data } = await gh.rest.git.getTree({ owner: ref.owner, repo: ref.repo, tree_sha: branch, recursive: "true" });
  const files = data.tree.filter((e) => e.type === "blob" && e.path && e.sha && parseGrantPath(e.path)).map((e) => ({ path: e.path!, blobSha: e.sha! }));
  return { hasPolicy: data.tree.some((e) => e.path === POLICY_PATH && e.type === "blob"), files };
}

export async function originsOf(gh: GitHub, ref: RepoRef, branch: string, file: GrantFile): Promise<{ number: number; headSha: string }[]> {
  const key = `${ref.owner}/${ref.repo}:${file.path}:${file.blobSha}`.toLowerCase();
  return originByFile.get(key) ?? remember(originByFile, key, await requestsThatAdded(gh, ref, branch, file.path));
}

/** A request's record, read from its check run. */
export async function recordOf(gh: GitHub, ref: RepoRef & { number: number }, headSha: string, appId: number): Promise<CommentState | undefined> {
  const { run } = await loadCheck(gh, ref, headSha, appId);
  return run ? readState(run.text) : undefined;
}

async function requesterOf(gh: GitHub, ref: RepoRef, file: GrantFile): Promise<string | null> {
  const cached = requesterByBlob.get(file.blobSha);
  if (cached !== undefined) return cached;
  const { data } = await gh.rest.git.getBlob({ owner: ref.owner, repo: ref.repo, file_sha: file.blobSha });
  const parsed = parseGrant(file.path, Buffer.from(data.content, "base64"));
  return remember(requesterByBlob, file.blobSha, parsed.ok ? parsed.grant.requester.toLowerCase() : null);
}

/**
 * Inside its window, and applied (APPROVED) or at least attempted (APPLYING with its standing
 * access recorded, which happens just before the provider is called). Which of the two counts
 * depends on the question, so the error is never towards keeping access:
 * - standing access observed for a new grant excludes what *either* may have given (a unit held
 *   only through a grant being applied right now is not standing, or nobody would ever revoke it);
 * - a revoke keeps only what *confirmed* grants give (a grant still being applied gives its unit
 *   back with its own apply, which comes after).
 */
export function mayGiveAccess(state: CommentState | undefined, now: Date): state is CommentState {
  if (!state?.target || !state.expires_at || now.getTime() >= Date.parse(state.expires_at)) return false;
  return state.status === "APPROVED" || (state.status === "APPLYING" && state.standing !== undefined);
}

/**
 * The requester's other live grants in a repository. Reference counting reads O(that person's
 * grants): one tree read, blobs only for files not seen before, and one record per grant of theirs.
 */
export const listLiveGrants: LiveGrantLister = async (gh, ref, q) => {
  const out: LiveGrant[] = [];
  const { files } = await grantFilesOn(gh, ref, q.defaultBranch);
  for (const file of files) {
    if (file.path === q.path || (await requesterOf(gh, ref, file)) !== q.requester.toLowerCase()) continue;
    for (const origin of await originsOf(gh, ref, q.defaultBranch, file)) {
      if (origin.number === q.except) continue;
      const state = await recordOf(gh, { ...ref, number: origin.number }, origin.headSha, q.appId);
      if (!mayGiveAccess(state, q.now) || !state.grant || !state.starts_at) continue;
      const s = { owner: ref.owner, repo: ref.repo, pr: { number: origin.number, url: `https://github.com/${ref.owner}/${ref.repo}/pull/${origin.number}` } } as RequestSnapshot;
      out.push({ number: origin.number, path: file.path, target: targetOf(s, state), standing: state.standing ?? [], confirmed: state.status === "APPROVED" });
    }
  }
  return out;
};
