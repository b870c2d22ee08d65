import { createHash } from "node:crypto";
import { Octokit } from "@octokit/rest";
import type { GitHub } from "../github/client.js";

/**
 * An in-memory GitHub behind Octokit's `request.fetch`, for benchmarks: the real Octokit,
 * loader and executor run, and every HTTP request is counted. It serves only the routes the
 * app uses, with the response fields the app reads; anything else answers 501 so a new call
 * cannot go uncounted.
 */
export interface FakePull {
  number: number;
  updatedAt?: string;
  headRef?: string;
  /** The branch it targets; "main" when unset. */
  baseRef?: string;
  author: string;
  headSha: string;
  createdAt: string;
  state: "open" | "closed";
  merged: boolean;
  labels: string[];
  files: { filename: string; status: string; content: string }[];
  reviews: { login: string; state: string; commitId: string }[];
  commits: { author: string; committer: string }[];
  comments: { id: number; body: string; byApp: boolean; login: string }[];
}

export interface FakeRepo {
  owner: string;
  repo: string;
  /** ref → path → content */
  files: Map<string, Map<string, string>>;
  pulls: Map<number, FakePull>;
  /** Check runs, all of this app; `externalId` and `output.text` as the record (github/record.ts) uses them. */
  checkRuns: { id: number; headSha: string; name?: string; externalId?: string; status: string; conclusion: string | null; output: { title: string; summary: string; text?: string } }[];
  /** Branch refs created through the API (name → sha). */
  refs?: Map<string, string>;
  /** A small git: commits by SHA (each with its whole tree) and the default branch's head, made on first use. */
  commits?: Map<string, FakeCommit>;
  mainSha?: string;
}

export interface FakeCommit {
  parent: string | null;
  tree: Map<string, string>;
}

/** The default branch's first commit: its tree is `files.get("main")`. */
const ROOT_SHA = "f".repeat(40);

export const blobSha = (content: string) => createHash("sha1").update(`blob ${Buffer.byteLength(content)}\0`).update(content).digest("hex");

export class FakeGitHub {
  readonly requests: string[] = [];
  readonly repos = new Map<string, FakeRepo>();
  /** `@org/team:login` → active */
  readonly members = new Set<string>();
  /** Added latency per request, to make concurrency realistic (0: none). */
  latencyMs = 0;
  /**
   * Called before each request is served: lets a test act between two of the app's requests (a
   * push, say), or answer one itself (branch protection refusing a merge).
   */
  onRequest?: (method: string, path: string, body: any) => { status: number; body?: unknown } | void;
  private nextId = 1000;

  constructor(private readonly appId: number) {}

  client(): GitHub {
    const silent = () => {};
    return new Octokit({ request: { fetch: this.fetch }, log: { debug: silent, info: silent, warn: silent, error: silent } });
  }

  count(prefix = ""): number {
    return this.requests.filter((r) => r.startsWith(prefix)).length;
  }

  reset(): void {
    this.requests.length = 0;
  }

  private readonly fetch = async (input: string | URL, init?: { method?: string; body?: string }): Promise<Response> => {
    const url = new URL(String(input));
    const method = (init?.method ?? "GET").toUpperCase();
    this.requests.push(`${method} ${url.pathname}`);
    if (this.latencyMs) await new Promise((r) => setTimeout(r, this.latencyMs));
    const body = init?.body ? JSON.parse(init.body) : undefined;
    const result: { status: number; body?: unknown; next?: number } = this.onRequest?.(method, decodeURIComponent(url.pathname), body) ?? this.route(method, decodeURIComponent(url.pathname), url.searchParams, body);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (result.next) {
      const next = new URL(url);
      next.searchParams.set("page", String(result.next));
      headers.link = `<${next.toString()}>; rel="next"`;
    }
    const response = new Response(result.body === undefined ? null : JSON.stringify(result.body), { status: result.status, headers });
    // A Response built by hand has no URL; Octokit's paginator reads it.
    Object.defineProperty(response, "url", { value: url.toString() });
    return response;
  };

  private route(method: string, path: string, query: URLSearchParams, body: any): { status: number; body?: unknown; next?: number } {
    const notFound = { status: 404, body: { message: "Not Found" } };
    let m: RegExpMatchArray | null;
    if ((m = path.match(/^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/))) {
      const key = `@${m[1]}/${m[2]}:${m[3]}`.toLowerCase();
      if (method === "PUT") this.members.add(key);
      if (method === "DELETE") return this.members.delete(key) ? { status: 204 } : notFound;
      return this.members.has(key) ? { status: 200, body: { state: "active", role: "member" } } : notFound;
    }
    if (method === "GET" && path === "/search/issues") {
      // 100 a page with a Link header, as GitHub pages search results.
      const all = this.search(query.get("q") ?? "");
      const page = Number(query.get("page") ?? 1);
      const items = all.items.slice((page - 1) * 100, page * 100);
      return { status: 200, body: { ...all, items }, ...(page * 100 < all.items.length ? { next: page + 1 } : {}) };
    }
    if ((m = path.match(/^\/repos\/([^/]+)\/([^/]+)\/(.*)$/))) {
      const repo = this.repos.get(`${m[1]}/${m[2]}`);
      if (!repo) return notFound;
      return this.repoRoute(repo, method, m[3]!, query, body) ?? { status: 501, body: { message: `fake GitHub does not serve ${method} ${path}` } };
    }
    return { status: 501, body: { message: `fake GitHub does not serve ${method} ${path}` } };
  }

  private repoRoute(repo: FakeRepo, method: string, rest: string, query: URLSearchParams, body: any): { status: number; body?: unknown } | undefined {
    const notFound = { status: 404, body: { message: "Not Found" } };
    let m: RegExpMatchArray | null;
    const fullName = `${repo.owner}/${repo.repo}`;
    if (method === "GET" && (m = rest.match(/^contents\/(.+)$/))) {
      const at = query.get("ref") ?? "main";
      const content = (repo.files.get(at) ?? this.treeAt(repo, at))?.get(m[1]!);
      if (content === undefined) return notFound;
      return { status: 200, body: { type: "file", encoding: "base64", size: Buffer.byteLength(content), path: m[1], content: Buffer.from(content).toString("base64"), sha: blobSha(content) } };
    }
    if (rest === "pulls" && method === "GET") {
      const head = query.get("head")?.split(":")[1];
      const found = [...repo.pulls.values()].filter((p) => p.headRef === head);
      return { status: 200, body: found.map((p) => this.pullSummary(repo, p)) };
    }
    if (rest === "pulls" && method === "POST") {
      const headSha = this.headOf(repo, body.head);
      if (!headSha) return { status: 422, body: { message: "Validation Failed", errors: [{ field: "head", code: "invalid" }] } };
      if ([...repo.pulls.values()].some((p) => p.headRef === body.head && p.state === "open")) return { status: 422, body: { message: "A pull request already exists" } };
      const diff = this.compare(repo, body.base, headSha);
      if (diff.ahead_by === 0) return { status: 422, body: { message: `No commits between ${body.base} and ${body.head}` } };
      const number = Math.max(0, ...repo.pulls.keys()) + 1;
      const files = diff.files.map((f) => ({ filename: f.filename, status: f.status, content: this.treeAt(repo, headSha)?.get(f.filename) ?? "" }));
      const pull: FakePull = { ...emptyPull(number, "jit-access[bot]"), headRef: body.head, baseRef: body.base, headSha, files };
      repo.pulls.set(number, pull);
      return { status: 201, body: this.pullSummary(repo, pull) };
    }
    if (method === "GET" && (m = rest.match(/^git\/ref\/heads\/(.+)$/))) {
      const sha = this.headOf(repo, m[1]!);
      return sha ? { status: 200, body: { ref: `refs/heads/${m[1]}`, object: { sha, type: "commit" } } } : notFound;
    }
    if (method === "POST" && rest === "git/refs") {
      repo.refs ??= new Map();
      if (repo.refs.has(body.ref)) return { status: 422, body: { message: "Reference already exists" } };
      if (!this.git(repo).has(body.sha)) return { status: 422, body: { message: "Object does not exist" } };
      repo.refs.set(body.ref, body.sha);
      return { status: 201, body: { ref: body.ref, object: { sha: body.sha, type: "commit" } } };
    }
    if (method === "DELETE" && (m = rest.match(/^contents\/(.+)$/))) {
      // As GitHub: a commit on the branch's current head, refused when the blob is not the one named.
      const head = this.headOf(repo, body.branch);
      const content = head ? this.treeAt(repo, head)?.get(m[1]!) : undefined;
      if (!head || content === undefined) return notFound;
      if (blobSha(content) !== body.sha) return { status: 409, body: { message: `${m[1]} does not match ${body.sha}` } };
      const sha = this.push(`${repo.owner}/${repo.repo}`, body.branch, { delete: [m[1]!] });
      return { status: 200, body: { content: null, commit: { sha, message: body.message, parents: [{ sha: head }] } } };
    }
    if (method === "GET" && (m = rest.match(/^compare\/(.+)\.\.\.(.+)$/))) {
      if (!this.resolve(repo, m[1]!) || !this.resolve(repo, m[2]!)) return notFound;
      return { status: 200, body: this.compare(repo, m[1]!, m[2]!) };
    }
    if (method === "GET" && (m = rest.match(/^git\/trees\/(.+)$/))) {
      // The whole tree (recursive): its files as blobs.
      const tree = this.treeAt(repo, m[1]!);
      if (!tree) return notFound;
      return { status: 200, body: { sha: this.resolve(repo, m[1]!), truncated: false, tree: [...tree].map(([path, content]) => ({ path, mode: "100644", type: "blob", sha: blobSha(content), size: Buffer.byteLength(content) })) } };
    }
    if (method === "GET" && (m = rest.match(/^issues\/comments\/(\d+)$/))) {
      for (const pr of repo.pulls.values()) {
        const c = pr.comments.find((x) => x.id === Number(m![1]));
        if (c) return { status: 200, body: { id: c.id, body: c.body } };
      }
      return notFound;
    }
    if ((m = rest.match(/^pulls\/(\d+)(\/.*)?$/))) {
      const pr = repo.pulls.get(Number(m[1]));
      if (!pr) return notFound;
      const sub = m[2] ?? "";
      if (method === "GET" && sub === "") {
        const repoObject = { full_name: fullName, default_branch: "main" };
        return {
          status: 200,
          body: {
            number: pr.number, html_url: `https://github.com/${fullName}/pull/${pr.number}`, user: { login: pr.author }, state: pr.state, merged: pr.merged,
            draft: false, created_at: pr.createdAt, labels: pr.labels.map((name) => ({ name })), changed_files: pr.files.length,
            head: { sha: this.currentHead(repo, pr), repo: repoObject }, base: { ref: pr.baseRef ?? "main", repo: repoObject },
          },
        };
      }
      if (method === "GET" && sub === "/files") return { status: 200, body: pr.files.map((f) => ({ filename: f.filename, status: f.status, sha: blobSha(f.content) })) };
      if (method === "GET" && sub === "/reviews") return { status: 200, body: pr.reviews.map((r, i) => ({ id: i + 1, user: { login: r.login, type: "User" }, state: r.state, commit_id: r.commitId })) };
      if (method === "GET" && sub === "/commits") return { status: 200, body: pr.commits.map((c, i) => ({ sha: `${i}`, author: { login: c.author }, committer: { login: c.committer } })) };
      if (method === "PUT" && sub === "/merge") {
        if (pr.merged) return { status: 405, body: { message: "Pull Request is not mergeable" } };
        const head = this.currentHead(repo, pr);
        // `sha` pins the merge: GitHub refuses it when the head moved since.
        if (body.sha && body.sha !== head) return { status: 409, body: { message: "Head branch was modified. Review and try the merge again." } };
        if (pr.headRef && repo.refs?.has(`refs/heads/${pr.headRef}`)) this.squash(repo, head);
        pr.merged = true;
        pr.state = "closed";
        return { status: 200, body: { merged: true } };
      }
      if (method === "PATCH" && sub === "") {
        pr.state = body.state ?? pr.state;
        return { status: 200, body: {} };
      }
      return undefined;
    }
    if ((m = rest.match(/^issues\/(\d+)\/(comments|labels|timeline)(?:\/(.+))?$/))) {
      const pr = repo.pulls.get(Number(m[1]));
      if (!pr) return notFound;
      if (m[2] === "timeline" && method === "GET") {
        // Its comments, as `commented` events (the app reads its status comment and commands here).
        return { status: 200, body: pr.comments.map((c) => ({ event: "commented", id: c.id, body: c.body, user: { login: c.login, type: c.byApp ? "Bot" : "User" }, created_at: pr.createdAt, updated_at: pr.createdAt, performed_via_github_app: c.byApp ? { id: this.appId } : null })) };
      }
      if (m[2] === "comments" && method === "GET") {
        return { status: 200, body: pr.comments.map((c) => ({ id: c.id, body: c.body, user: { login: c.login, type: c.byApp ? "Bot" : "User" }, created_at: pr.createdAt, performed_via_github_app: c.byApp ? { id: this.appId } : null })) };
      }
      if (m[2] === "comments" && method === "POST") {
        const id = this.nextId++;
        pr.comments.push({ id, body: body.body, byApp: true, login: "jit-access[bot]" });
        this.touch(pr);
        return { status: 201, body: { id } };
      }
      if (m[2] === "labels" && method === "POST") {
        for (const l of body.labels as string[]) if (!pr.labels.includes(l)) pr.labels.push(l);
        this.touch(pr);
        return { status: 200, body: [] };
      }
      if (m[2] === "labels" && method === "DELETE") {
        if (!pr.labels.includes(m[3]!)) return notFound;
        pr.labels = pr.labels.filter((l) => l !== m![3]);
        this.touch(pr);
        return { status: 200, body: [] };
      }
      return undefined;
    }
    if (method === "PATCH" && (m = rest.match(/^issues\/comments\/(\d+)$/))) {
      for (const pr of repo.pulls.values()) {
        const c = pr.comments.find((x) => x.id === Number(m![1]));
        if (c) {
          c.body = body.body;
          this.touch(pr);
        }
      }
      return { status: 200, body: {} };
    }
    if (method === "GET" && (m = rest.match(/^commits\/([^/]+)\/check-runs$/))) {
      // Every run here is this app's: another app_id finds none. check_name filters by name.
      const name = query.get("check_name");
      const appId = query.get("app_id");
      const runs = appId !== null && Number(appId) !== this.appId ? [] : repo.checkRuns.filter((r) => r.headSha === m![1] && (name === null || (r.name ?? "jit-access") === name));
      return { status: 200, body: { total_count: runs.length, check_runs: runs.map((r) => this.checkRun(r)) } };
    }
    if (method === "POST" && rest === "check-runs") {
      const id = this.nextId++;
      repo.checkRuns.push({ id, headSha: body.head_sha, name: body.name, ...(body.external_id ? { externalId: body.external_id } : {}), status: body.status, conclusion: body.conclusion ?? null, output: body.output });
      return { status: 201, body: { id } };
    }
    if (method === "PATCH" && (m = rest.match(/^check-runs\/(\d+)$/))) {
      const run = repo.checkRuns.find((r) => r.id === Number(m![1]));
      // As GitHub: fields the request leaves out (a write of the record sends only `output`) stay as they were.
      if (run) Object.assign(run, { ...(body.status ? { status: body.status, conclusion: body.conclusion ?? null } : {}), ...(body.output ? { output: body.output } : {}) });
      return { status: 200, body: {} };
    }
    return undefined;
  }

  private touch(pr: FakePull): void {
    pr.updatedAt = new Date().toISOString();
  }

  /**
   * A commit on `branch` (created from the default branch's head when it does not exist) that
   * deletes and writes files; moves the branch and returns the new SHA. What the contents API
   * does for the app, and what a test does to play a person pushing to a branch.
   */
  push(repoName: string, branch: string, change: { delete?: string[]; put?: Record<string, string> }): string {
    const repo = this.repos.get(repoName)!;
    const commits = this.git(repo);
    const parent = this.headOf(repo, branch) ?? repo.mainSha!;
    const tree = new Map(commits.get(parent)!.tree);
    for (const path of change.delete ?? []) tree.delete(path);
    for (const [path, content] of Object.entries(change.put ?? {})) tree.set(path, content);
    const sha = createHash("sha1").update(`${parent}\0${branch}\0${this.nextId++}`).digest("hex");
    commits.set(sha, { parent, tree });
    if (branch === "main") {
      repo.mainSha = sha;
      repo.files.set("main", tree);
    } else {
      (repo.refs ??= new Map()).set(`refs/heads/${branch}`, sha);
    }
    return sha;
  }

  /** The commits of a repository; the default branch's files become its first commit. */
  private git(repo: FakeRepo): Map<string, FakeCommit> {
    if (!repo.commits) {
      repo.commits = new Map([[ROOT_SHA, { parent: null, tree: repo.files.get("main") ?? new Map() }]]);
      repo.mainSha = ROOT_SHA;
    }
    return repo.commits;
  }

  private headOf(repo: FakeRepo, branch: string): string | undefined {
    this.git(repo);
    return branch === "main" ? repo.mainSha : repo.refs?.get(`refs/heads/${branch}`);
  }

  private resolve(repo: FakeRepo, refOrSha: string): string | undefined {
    return this.git(repo).has(refOrSha) ? refOrSha : this.headOf(repo, refOrSha);
  }

  private treeAt(repo: FakeRepo, refOrSha: string): Map<string, string> | undefined {
    const sha = this.resolve(repo, refOrSha);
    return sha ? this.git(repo).get(sha)?.tree : undefined;
  }

  private currentHead(repo: FakeRepo, pr: FakePull): string {
    return (pr.headRef && repo.refs?.get(`refs/heads/${pr.headRef}`)) || pr.headSha;
  }

  private checkRun(r: FakeRepo["checkRuns"][number]) {
    return { id: r.id, head_sha: r.headSha, name: r.name ?? "jit-access", external_id: r.externalId ?? null, status: r.status, conclusion: r.conclusion, output: { text: null, ...r.output }, app: { id: this.appId } };
  }

  private pullSummary(repo: FakeRepo, p: FakePull) {
    const fullName = `${repo.owner}/${repo.repo}`;
    return {
      number: p.number, html_url: `https://github.com/${fullName}/pull/${p.number}`, state: p.state, merged_at: p.merged ? p.createdAt : null,
      head: { ref: p.headRef, sha: this.currentHead(repo, p), repo: { full_name: fullName } }, base: { ref: p.baseRef ?? "main" }, labels: p.labels.map((name) => ({ name })),
    };
  }

  /** GitHub's three-dot comparison: from the merge base of `base` and `head` to `head`. */
  private compare(repo: FakeRepo, base: string, head: string) {
    const commits = this.git(repo);
    const baseSha = this.resolve(repo, base)!;
    const headSha = this.resolve(repo, head)!;
    const ancestors = new Set<string>();
    for (let c: string | null = baseSha; c; c = commits.get(c)!.parent) ancestors.add(c);
    const ahead: string[] = [];
    let mergeBase: string | null = headSha;
    while (mergeBase && !ancestors.has(mergeBase)) {
      ahead.push(mergeBase);
      mergeBase = commits.get(mergeBase)!.parent;
    }
    let behind = 0;
    for (let c: string | null = baseSha; c && c !== mergeBase; c = commits.get(c)!.parent) behind++;
    const from = mergeBase ? commits.get(mergeBase)!.tree : new Map<string, string>();
    const to = commits.get(headSha)!.tree;
    const files: { filename: string; status: string; sha: string }[] = [];
    for (const [path, content] of from) {
      if (!to.has(path)) files.push({ filename: path, status: "removed", sha: blobSha(content) });
      else if (to.get(path) !== content) files.push({ filename: path, status: "modified", sha: blobSha(to.get(path)!) });
    }
    for (const [path, content] of to) if (!from.has(path)) files.push({ filename: path, status: "added", sha: blobSha(content) });
    const status = ahead.length && behind ? "diverged" : ahead.length ? "ahead" : behind ? "behind" : "identical";
    return { status, ahead_by: ahead.length, behind_by: behind, total_commits: ahead.length, commits: ahead.reverse().map((sha) => ({ sha })), files };
  }

  /** A squash merge: the head's changes since its merge base with the default branch, as one new commit there. */
  private squash(repo: FakeRepo, head: string): void {
    const diff = this.compare(repo, "main", head);
    const headTree = this.git(repo).get(head)!.tree;
    const put: Record<string, string> = {};
    for (const f of diff.files) if (f.status !== "removed") put[f.filename] = headTree.get(f.filename)!;
    this.push(`${repo.owner}/${repo.repo}`, "main", { delete: diff.files.filter((f) => f.status === "removed").map((f) => f.filename), put });
  }

  /** The subset of GitHub's issue search the app uses: is:pr, is:open|merged, label:"…", org:|user:|repo:, updated:>=. */
  private search(q: string) {
    const label = /label:"([^"]+)"/.exec(q)?.[1];
    const owner = /(?:org|user):(\S+)/.exec(q)?.[1];
    const repoName = /repo:(\S+)/.exec(q)?.[1];
    const since = /updated:>=(\S+)/.exec(q)?.[1];
    const author = /author:(\S+)/.exec(q)?.[1];
    const items = [];
    for (const [name, repo] of this.repos) {
      if (owner && repo.owner !== owner) continue;
      if (repoName && name !== repoName) continue;
      for (const pr of repo.pulls.values()) {
        if (q.includes("is:merged") && !pr.merged) continue;
        if (q.includes("is:open") && pr.state !== "open") continue;
        if (label && !pr.labels.includes(label)) continue;
        if (author && pr.author.toLowerCase() !== author.toLowerCase()) continue;
        const updated = pr.updatedAt ?? pr.createdAt;
        if (since && updated < since) continue;
        items.push({
          number: pr.number,
          created_at: pr.createdAt,
          updated_at: updated,
          html_url: `https://github.com/${name}/pull/${pr.number}`,
          repository_url: `https://api.github.com/repos/${name}`,
          pull_request: {},
        });
      }
    }
    return { total_count: items.length, incomplete_results: false, items };
  }
}

export function emptyPull(number: number, author: string): FakePull {
  return {
    number, author, headSha: "e".repeat(40), createdAt: new Date().toISOString(), state: "open", merged: false, labels: [],
    files: [], reviews: [], commits: [], comments: [],
  };
}
