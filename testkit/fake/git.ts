import { createHash } from "node:crypto";

/**
 * The git side of the in-memory GitHub: content-addressed blobs, commits that each hold their
 * whole tree (repositories here are small), branches, merge bases and squash merges. Enough for
 * what the app reads from git — a branch's tree, a path's history, a PR's diff — to follow from
 * what happened, rather than being set up by hand.
 */
export const blobSha = (content: string) => createHash("sha1").update(`blob ${Buffer.byteLength(content)}\0`).update(content).digest("hex");

export interface Commit {
  sha: string;
  parents: string[];
  /** path → blob sha: the whole tree at this commit. */
  tree: Map<string, string>;
  /** The tree's own SHA (content-addressed, as trees are stored in `trees`). */
  treeSha: string;
  message: string;
  author: string;
  committer: string;
  date: string;
  /** Paths this commit changed against its first parent. */
  touched: string[];
  /** Creation order: the newest common ancestor is the merge base. */
  seq: number;
}

export interface FileChange {
  path: string;
  status: "added" | "removed" | "modified";
  /** The blob after the change (removed: the blob before). */
  blobSha: string;
}

/** GitHub's three-dot comparison of two commits: what `head` has since their merge base. */
export interface Comparison {
  mergeBase: Commit | undefined;
  /** Commits reachable from head and not from base, oldest first. */
  ahead: Commit[];
  behindBy: number;
  files: FileChange[];
}

/** Thrown by a three-way merge that cannot be resolved. */
export class MergeConflict extends Error {}

export class Git {
  readonly blobs = new Map<string, string>();
  readonly commits = new Map<string, Commit>();
  readonly branches = new Map<string, string>();
  /** Trees by SHA (path → blob sha), as the git data API writes and reads them. */
  readonly trees = new Map<string, Map<string, string>>();
  private seq = 0;

  putBlob(content: string): string {
    const sha = blobSha(content);
    this.blobs.set(sha, content);
    return sha;
  }

  /** A branch name (`main`, `heads/main`, `refs/heads/main`) or a commit sha. */
  resolve(ref: string): Commit | undefined {
    const name = ref.replace(/^refs\//, "").replace(/^heads\//, "");
    const sha = this.branches.get(name) ?? ref;
    return this.commits.get(sha);
  }

  /** Stores a tree; its SHA is its content's, so equal trees share one. */
  putTree(tree: Map<string, string>): string {
    const hash = createHash("sha1").update("tree\0");
    for (const [path, blob] of [...tree].sort(([a], [b]) => a.localeCompare(b))) hash.update(`${path}\0${blob}\n`);
    const sha = hash.digest("hex");
    if (!this.trees.has(sha)) this.trees.set(sha, new Map(tree));
    return sha;
  }

  /** Commits `changes` (path → content, null deletes) on top of `branch` (a new root when it does not exist), and moves the branch. */
  commit(branch: string, changes: Map<string, string | null>, meta: { message: string; author: string; committer?: string; date: string }): Commit {
    const parent = this.resolve(branch);
    const tree = new Map(parent?.tree ?? []);
    for (const [path, content] of changes) {
      if (content === null) tree.delete(path);
      else tree.set(path, this.putBlob(content));
    }
    const commit = this.commitTree(this.putTree(tree), parent ? [parent.sha] : [], meta);
    this.branches.set(branch.replace(/^refs\/heads\//, ""), commit.sha);
    return commit;
  }

  /** A commit of a stored tree on the given parents, moving no branch (the git data API's commit). */
  commitTree(treeSha: string, parents: string[], meta: { message: string; author: string; committer?: string; date: string }): Commit {
    const tree = new Map(this.trees.get(treeSha) ?? []);
    const before = parents[0] ? this.commits.get(parents[0])!.tree : new Map<string, string>();
    const touched = [...new Set([...tree.keys(), ...before.keys()])].filter((path) => tree.get(path) !== before.get(path));
    const seq = ++this.seq;
    // Its tree is in it, as in git: two repositories' first commits with other files are other commits.
    const sha = createHash("sha1").update(`${treeSha}\0${parents.join(",")}\0${seq}\0${meta.message}`).digest("hex");
    const commit: Commit = { sha, parents, tree, treeSha, message: meta.message, author: meta.author, committer: meta.committer ?? meta.author, date: meta.date, touched, seq };
    this.commits.set(sha, commit);
    return commit;
  }

  ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const stack = [sha];
    while (stack.length) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(this.commits.get(next)?.parents ?? []));
    }
    return seen;
  }

  /** The newest commit both histories share. */
  mergeBase(a: string, b: string): Commit | undefined {
    const ofB = this.ancestors(b);
    let best: Commit | undefined;
    for (const sha of this.ancestors(a)) {
      const c = this.commits.get(sha)!;
      if (ofB.has(sha) && (!best || c.seq > best.seq)) best = c;
    }
    return best;
  }

  /** `base...head`: from the newest commit both share to `head` (what a PR from head into base would change). */
  compare(base: Commit, head: Commit): Comparison {
    const mergeBase = this.mergeBase(head.sha, base.sha);
    const shared = mergeBase ? this.ancestors(mergeBase.sha) : new Set<string>();
    const only = (tip: Commit) => [...this.ancestors(tip.sha)].filter((sha) => !shared.has(sha)).map((sha) => this.commits.get(sha)!);
    return { mergeBase, ahead: only(head).sort((a, b) => a.seq - b.seq), behindBy: only(base).length, files: this.diff(mergeBase, head) };
  }

  diff(from: Commit | undefined, to: Commit): FileChange[] {
    const before = from?.tree ?? new Map<string, string>();
    const out: FileChange[] = [];
    for (const [path, sha] of to.tree) {
      const old = before.get(path);
      if (old === undefined) out.push({ path, status: "added", blobSha: sha });
      else if (old !== sha) out.push({ path, status: "modified", blobSha: sha });
    }
    for (const [path, sha] of before) if (!to.tree.has(path)) out.push({ path, status: "removed", blobSha: sha });
    return out.sort((x, y) => x.path.localeCompare(y.path));
  }

  /**
   * The changes a squash merge of `head` into `base` makes: what `head` changed since their merge
   * base, where `base` did not change the same path differently (else a conflict, as GitHub says).
   */
  squashChanges(base: Commit, head: Commit): Map<string, string | null> {
    const ancestor = this.mergeBase(head.sha, base.sha);
    const changes = new Map<string, string | null>();
    for (const change of this.diff(ancestor, head)) {
      const theirs = head.tree.get(change.path);
      const ours = base.tree.get(change.path);
      if (ours === theirs) continue; // both sides made the same change
      if (ours !== ancestor?.tree.get(change.path)) throw new MergeConflict(`merge conflict in ${change.path}`);
      changes.set(change.path, theirs === undefined ? null : this.blobs.get(theirs)!);
    }
    return changes;
  }

  /** Commits reachable from `ref`, newest first, optionally only those that touched `path`. */
  log(ref: string, path?: string): Commit[] {
    const tip = this.resolve(ref);
    if (!tip) return [];
    return [...this.ancestors(tip.sha)]
      .map((sha) => this.commits.get(sha)!)
      .filter((c) => !path || c.touched.includes(path))
      .sort((a, b) => b.seq - a.seq);
  }
}
