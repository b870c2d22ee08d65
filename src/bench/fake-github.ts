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
  checkRuns: { id: number; headSha: string; status: string; conclusion: string | null; output: { title: string; summary: string } }[];
  /** Branch refs created through the API (name → sha). */
  refs?: Map<string, string>;
}

export const blobSha = (content: string) => createHash("sha1").update(`blob ${Buffer.byteLength(content)}\0`).update(content).digest("hex");

export class FakeGitHub {
  readonly requests: string[] = [];
  readonly repos = new Map<string, FakeRepo>();
  /** `@org/team:login` → active */
  readonly members = new Set<string>();
  /** Added latency per request, to make concurrency realistic (0: none). */
  latencyMs = 0;
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
    const result = this.route(method, decodeURIComponent(url.pathname), url.searchParams, body);
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
      const content = repo.files.get(query.get("ref") ?? "main")?.get(m[1]!);
      if (content === undefined) return notFound;
      return { status: 200, body: { type: "file", encoding: "base64", size: Buffer.byteLength(content), path: m[1], content: Buffer.from(content).toString("base64"), sha: blobSha(content) } };
    }
    if (rest === "pulls" && method === "GET") {
      const head = query.get("head")?.split(":")[1];
      const found = [...repo.pulls.values()].filter((p) => p.headRef === head);
      return { status: 200, body: found.map((p) => ({ number: p.number, html_url: "", state: p.state, merged_at: p.merged ? p.createdAt : null })) };
    }
    if (rest === "pulls" && method === "POST") {
      if ([...repo.pulls.values()].some((p) => p.headRef === body.head && p.state === "open")) return { status: 422, body: { message: "A pull request already exists" } };
      const number = Math.max(0, ...repo.pulls.keys()) + 1;
      repo.pulls.set(number, { ...emptyPull(number, "jit-access[bot]"), headRef: body.head });
      return { status: 201, body: { number, html_url: `https://github.com/${fullName}/pull/${number}` } };
    }
    if (method === "GET" && (m = rest.match(/^git\/ref\/heads\/(.+)$/))) return { status: 200, body: { object: { sha: "f".repeat(40) } } };
    if (method === "POST" && rest === "git/refs") {
      repo.refs ??= new Map();
      if (repo.refs.has(body.ref)) return { status: 422, body: { message: "Reference already exists" } };
      repo.refs.set(body.ref, body.sha);
      return { status: 201, body: {} };
    }
    if (method === "DELETE" && (m = rest.match(/^contents\/(.+)$/))) {
      const files = repo.files.get(body.branch) ?? new Map(repo.files.get("main"));
      repo.files.set(body.branch, files);
      return files.delete(m[1]!) ? { status: 200, body: {} } : notFound;
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
            head: { sha: pr.headSha, repo: repoObject }, base: { ref: "main", repo: repoObject },
          },
        };
      }
      if (method === "GET" && sub === "/files") return { status: 200, body: pr.files.map((f) => ({ filename: f.filename, status: f.status, sha: blobSha(f.content) })) };
      if (method === "GET" && sub === "/reviews") return { status: 200, body: pr.reviews.map((r, i) => ({ id: i + 1, user: { login: r.login, type: "User" }, state: r.state, commit_id: r.commitId })) };
      if (method === "GET" && sub === "/commits") return { status: 200, body: pr.commits.map((c, i) => ({ sha: `${i}`, author: { login: c.author }, committer: { login: c.committer } })) };
      if (method === "PUT" && sub === "/merge") {
        if (pr.merged) return { status: 405, body: { message: "Pull Request is not mergeable" } };
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
    if ((m = rest.match(/^issues\/(\d+)\/(comments|labels)(?:\/(.+))?$/))) {
      const pr = repo.pulls.get(Number(m[1]));
      if (!pr) return notFound;
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
      const runs = repo.checkRuns.filter((r) => r.headSha === m![1]);
      return { status: 200, body: { total_count: runs.length, check_runs: runs.map((r) => ({ ...r, app: { id: this.appId } })) } };
    }
    if (method === "POST" && rest === "check-runs") {
      repo.checkRuns.push({ id: this.nextId++, headSha: body.head_sha, status: body.status, conclusion: body.conclusion ?? null, output: body.output });
      return { status: 201, body: {} };
    }
    if (method === "PATCH" && (m = rest.match(/^check-runs\/(\d+)$/))) {
      const run = repo.checkRuns.find((r) => r.id === Number(m![1]));
      if (run) Object.assign(run, { status: body.status, conclusion: body.conclusion ?? null, output: body.output });
      return { status: 200, body: {} };
    }
    return undefined;
  }

  private touch(pr: FakePull): void {
    pr.updatedAt = new Date().toISOString();
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
