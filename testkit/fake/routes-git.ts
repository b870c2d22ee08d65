import type { Commit, FileChange } from "./git.js";
import { fullName, type FakeRepo } from "./model.js";
import { fail, list, ok, type Route } from "./router.js";
import { pull, repository } from "./shapes.js";
import { loginOf, mayWrite, pushed } from "./world.js";

/** Repository content and history: contents, refs, trees, blobs, commits and their pull requests; comparisons; the git data API. */
const commitOf = (repo: FakeRepo, ref: string | null): Commit => repo.git.resolve(ref ?? repo.defaultBranch) ?? fail(404, `No commit found for the ref ${ref}`);
const branchOf = (ref: string) => ref.replace(/^refs\//, "").replace(/^heads\//, "");

function contentBody(path: string, sha: string, content: string) {
  return { type: "file", encoding: "base64", size: Buffer.byteLength(content), name: path.split("/").pop(), path, sha, content: Buffer.from(content).toString("base64") };
}

function commitBody(repo: FakeRepo, c: Commit) {
  return {
    sha: c.sha,
    url: `https://api.github.com/repos/${fullName(repo)}/commits/${c.sha}`,
    commit: { message: c.message, author: { name: c.author, date: c.date }, committer: { name: c.committer, date: c.date } },
    author: { login: c.author, type: "User" },
    committer: { login: c.committer, type: "User" },
    parents: c.parents.map((sha) => ({ sha })),
  };
}

/** A commit as the git data API (and the contents API's answers) show it: its tree and parents by SHA. */
function gitCommitBody(repo: FakeRepo, c: Commit) {
  const url = `https://api.github.com/repos/${fullName(repo)}/git/commits/${c.sha}`;
  const person = (login: string) => ({ name: login, email: `${login}@users.noreply.github.com`, date: c.date });
  return {
    sha: c.sha,
    url,
    html_url: `https://github.com/${fullName(repo)}/commit/${c.sha}`,
    message: c.message,
    author: person(c.author),
    committer: person(c.committer),
    tree: { sha: c.treeSha, url: `https://api.github.com/repos/${fullName(repo)}/git/trees/${c.treeSha}` },
    parents: c.parents.map((sha) => ({ sha, url: `https://api.github.com/repos/${fullName(repo)}/git/commits/${sha}`, html_url: `https://github.com/${fullName(repo)}/commit/${sha}` })),
  };
}

function fileBody(repo: FakeRepo, f: FileChange) {
  const content = repo.git.blobs.get(f.blobSha) ?? "";
  const lines = content === "" ? 0 : content.split("\n").length - (content.endsWith("\n") ? 1 : 0);
  const [additions, deletions] = f.status === "removed" ? [0, lines] : f.status === "added" ? [lines, 0] : [1, 1];
  return { sha: f.blobSha, filename: f.path, status: f.status, additions, deletions, changes: additions + deletions };
}

export const gitRoutes: Route[] = [
  { method: "GET", template: "/repos/{owner}/{repo}", handle: (_w, { repo }) => ok(repository(repo)) },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/contents/{path}",
    handle(_w, { repo, params, query }) {
      const commit = commitOf(repo, query.get("ref"));
      const sha = commit.tree.get(params.path!);
      if (sha !== undefined) return ok(contentBody(params.path!, sha, repo.git.blobs.get(sha)!));
      const prefix = `${params.path}/`;
      const entries = [...commit.tree].filter(([p]) => p.startsWith(prefix));
      if (entries.length === 0) fail(404, "Not Found");
      return ok(entries.map(([p, s]) => ({ type: p.slice(prefix.length).includes("/") ? "dir" : "file", path: p, sha: s, name: p.split("/").pop() })));
    },
  },
  {
    method: "PUT",
    template: "/repos/{owner}/{repo}/contents/{path}",
    handle(world, { repo, params, body, actor }) {
      mayWrite(world, repo, actor);
      const branch = body.branch ?? repo.defaultBranch;
      const existing = commitOf(repo, branch).tree.get(params.path!);
      if (existing && !body.sha) fail(422, `"sha" wasn't supplied.`);
      if (existing && body.sha !== existing) fail(409, `${params.path} does not match ${body.sha}`);
      const content = Buffer.from(String(body.content ?? ""), "base64").toString("utf8");
      const login = loginOf(world, actor);
      const c = repo.git.commit(branch, new Map([[params.path!, content]]), { message: body.message, author: login, date: world.now() });
      pushed(world, repo, branch, login);
      return ok({ content: { path: params.path, sha: c.tree.get(params.path!) }, commit: gitCommitBody(repo, c) }, existing ? 200 : 201);
    },
  },
  {
    method: "DELETE",
    template: "/repos/{owner}/{repo}/contents/{path}",
    handle(world, { repo, params, body, actor }) {
      mayWrite(world, repo, actor);
      const branch = body.branch ?? repo.defaultBranch;
      const existing = commitOf(repo, branch).tree.get(params.path!);
      if (!existing) fail(404, "Not Found");
      if (body.sha !== existing) fail(409, `${params.path} does not match ${body.sha}`);
      const login = loginOf(world, actor);
      const c = repo.git.commit(branch, new Map([[params.path!, null]]), { message: body.message, author: login, date: world.now() });
      pushed(world, repo, branch, login);
      // As GitHub: a commit on the branch's head at that moment, its parent in the answer.
      return ok({ content: null, commit: gitCommitBody(repo, c) });
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/git/ref/{ref}",
    handle(_w, { repo, params }) {
      const name = params.ref!.replace(/^heads\//, "");
      const sha = repo.git.branches.get(name) ?? fail(404, "Not Found");
      return ok({ ref: `refs/heads/${name}`, object: { sha, type: "commit" } });
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/git/refs",
    handle(world, { repo, body, actor }) {
      mayWrite(world, repo, actor);
      const name = String(body.ref ?? "").replace(/^refs\/heads\//, "");
      if (!String(body.ref).startsWith("refs/heads/")) fail(422, "Reference name must start with 'refs/'");
      if (repo.git.branches.has(name)) fail(422, "Reference already exists");
      if (!repo.git.commits.has(body.sha)) fail(422, "Object does not exist");
      repo.git.branches.set(name, body.sha);
      return ok({ ref: body.ref, object: { sha: body.sha, type: "commit" } }, 201);
    },
  },
  {
    method: "PATCH",
    template: "/repos/{owner}/{repo}/git/refs/{ref}",
    handle(world, { repo, params, body, actor }) {
      // A push through the git data API: a fast-forward unless forced; open PRs from the branch follow it.
      mayWrite(world, repo, actor);
      const name = branchOf(params.ref!);
      const current = repo.git.branches.get(name) ?? fail(422, "Reference does not exist");
      if (!repo.git.commits.has(body.sha)) fail(422, "Object does not exist");
      if (!body.force && !repo.git.ancestors(body.sha).has(current)) fail(422, "Update is not a fast forward");
      repo.git.branches.set(name, body.sha);
      pushed(world, repo, name, loginOf(world, actor));
      return ok({ ref: `refs/heads/${name}`, object: { sha: body.sha, type: "commit" } });
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/git/trees",
    handle(world, { repo, body, actor }) {
      mayWrite(world, repo, actor);
      const tree = new Map(body.base_tree ? (repo.git.trees.get(body.base_tree) ?? fail(422, "Invalid tree info")) : []);
      for (const entry of (body.tree ?? []) as { path: string; sha?: string | null; content?: string }[]) {
        if (entry.content !== undefined) tree.set(entry.path, repo.git.putBlob(entry.content));
        else if (entry.sha === null) tree.delete(entry.path);
        else if (entry.sha && repo.git.blobs.has(entry.sha)) tree.set(entry.path, entry.sha);
        else fail(422, "Invalid tree info");
      }
      const sha = repo.git.putTree(tree);
      return ok({ sha, truncated: false, tree: [...tree].map(([path, blob]) => ({ path, mode: "100644", type: "blob", sha: blob })) }, 201);
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/git/commits",
    handle(world, { repo, body, actor }) {
      mayWrite(world, repo, actor);
      if (!repo.git.trees.has(body.tree)) fail(422, "Tree SHA does not exist");
      const parents = ((body.parents ?? []) as string[]).map((sha) => (repo.git.commits.has(sha) ? sha : fail(422, "Parent SHA does not exist or is not a commit object")));
      const c = repo.git.commitTree(body.tree, parents, { message: String(body.message ?? ""), author: loginOf(world, actor), date: world.now() });
      return ok(gitCommitBody(repo, c), 201);
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/git/trees/{tree_sha}",
    handle(_w, { repo, params, query }) {
      // A tree SHA, or (as GitHub accepts) a commit or branch whose tree is meant.
      const stored = repo.git.trees.get(params.tree_sha!);
      const commit = stored ? { tree: stored, treeSha: params.tree_sha! } : commitOf(repo, params.tree_sha!);
      const recursive = query.has("recursive");
      const dirs = new Set<string>();
      const tree: Record<string, unknown>[] = [];
      for (const [path, sha] of [...commit.tree].sort(([a], [b]) => a.localeCompare(b))) {
        const parts = path.split("/");
        if (!recursive && parts.length > 1) {
          dirs.add(parts[0]!);
          continue;
        }
        for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
        tree.push({ path, mode: "100644", type: "blob", sha, size: Buffer.byteLength(repo.git.blobs.get(sha)!) });
      }
      for (const dir of dirs) tree.push({ path: dir, mode: "040000", type: "tree", sha: "0".repeat(40) });
      return ok({ sha: commit.treeSha, truncated: false, tree });
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/git/blobs/{file_sha}",
    handle(_w, { repo, params }) {
      const content = repo.git.blobs.get(params.file_sha!) ?? fail(404, "Not Found");
      return ok({ sha: params.file_sha, size: Buffer.byteLength(content), encoding: "base64", content: Buffer.from(content).toString("base64") });
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/commits",
    handle(_w, { repo, query }) {
      return list(repo.git.log(query.get("sha") ?? repo.defaultBranch, query.get("path") ?? undefined).map((c) => commitBody(repo, c)));
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/compare/{basehead}",
    handle(_w, { repo, params, query }) {
      // `base...head` (three dots: from their merge base), each a branch or a commit SHA.
      const [base, head, ...rest] = params.basehead!.split("...");
      if (!base || !head || rest.length) fail(404, "Not Found");
      const from = repo.git.resolve(base!) ?? fail(404, "Not Found");
      const to = repo.git.resolve(head!) ?? fail(404, "Not Found");
      const cmp = repo.git.compare(from, to);
      // As GitHub: 250 commits unpaged; paged (`per_page`, `page`), the files only on the first page.
      const paged = query.has("per_page") || query.has("page");
      const perPage = paged ? Math.min(100, Number(query.get("per_page") ?? 30)) : 250;
      const page = Number(query.get("page") ?? 1);
      const ahead = cmp.ahead.length;
      return ok({
        status: ahead && cmp.behindBy ? "diverged" : ahead ? "ahead" : cmp.behindBy ? "behind" : "identical",
        ahead_by: ahead,
        behind_by: cmp.behindBy,
        total_commits: ahead,
        base_commit: commitBody(repo, from),
        merge_base_commit: cmp.mergeBase ? commitBody(repo, cmp.mergeBase) : null,
        commits: cmp.ahead.slice((page - 1) * perPage, page * perPage).map((c) => commitBody(repo, c)),
        files: page === 1 ? cmp.files.slice(0, 300).map((f) => fileBody(repo, f)) : [],
      });
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/commits/{commit_sha}/pulls",
    handle(_w, { repo, params }) {
      // The merged PR that brought the commit to its base; otherwise open PRs whose head contains it.
      const sha = params.commit_sha!;
      const merged = [...repo.pulls.values()].filter((p) => p.mergeCommitSha === sha);
      const open = [...repo.pulls.values()].filter((p) => p.state === "open" && repo.git.ancestors(p.headSha).has(sha));
      return list((merged.length ? merged : open).map((p) => pull(repo, p)));
    },
  },
];
