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
}

export const blobSha = (content: string) => createHash("sha1").update(`blob ${Buffer.byteLength(content)}\0`).update(content).digest("hex");

export class FakeGitHub {
  readonly requests: string[] = [];
  readonly repos = new Map<string, FakeRepo>();
  /** `@org/team:login` → active */
  readonly members = new Set<string>();
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
    const body = init?.body ? JSON.parse(init.body) : undefined;
    const result = this.route(method, decodeURIComponent(url.pathname), url.searchParams, body);
    return new Response(result.body === undefined ? null : JSON.stringify(result.body), { status: result.status, headers: { "content-type": "application/json" } });
  };

  private route(method: string, path: string, query: URLSearchParams, body: any): { status: number; body?: unknown } {
    const notFound = { status: 404, body: { message: "Not Found" } };
    let m: RegExpMatchArray | null;
    if ((m = path.match(/^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/))) {
      return this.members.has(`@${m[1]}/${m[2]}:${m[3]}`.toLowerCase()) ? { status: 200, body: { state: "active", role: "member" } } : notFound;
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
        pr.comments.push({ id: this.nextId++, body: body.body, byApp: true, login: "jit-access[bot]" });
        return { status: 201, body: {} };
      }
      if (m[2] === "labels" && method === "POST") {
        pr.labels.push(...body.labels);
        return { status: 200, body: [] };
      }
      if (m[2] === "labels" && method === "DELETE") {
        pr.labels = pr.labels.filter((l) => l !== m![3]);
        return { status: 200, body: [] };
      }
      return undefined;
    }
    if (method === "PATCH" && (m = rest.match(/^issues\/comments\/(\d+)$/))) {
      for (const pr of repo.pulls.values()) {
        const c = pr.comments.find((x) => x.id === Number(m![1]));
        if (c) c.body = body.body;
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
}
