import type { Commit } from "./git.js";
import { fullName, type FakeRepo } from "./model.js";
import { fail, list, ok, type Route } from "./router.js";
import { pull, repository } from "./shapes.js";
import { loginOf, mayWrite, pushed } from "./world.js";

/** Repository content and history: contents, refs, trees, blobs, commits and their pull requests. */
const commitOf = (repo: FakeRepo, ref: string | null): Commit => repo.git.resolve(ref ?? repo.defaultBranch) ?? fail(404, `No commit found for the ref ${ref}`);

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
      return ok({ content: { path: params.path, sha: c.tree.get(params.path!) }, commit: { sha: c.sha } }, existing ? 200 : 201);
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
      return ok({ content: null, commit: { sha: c.sha } });
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
    method: "GET",
    template: "/repos/{owner}/{repo}/git/trees/{tree_sha}",
    handle(_w, { repo, params, query }) {
      const commit = commitOf(repo, params.tree_sha!);
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
      return ok({ sha: commit.sha, truncated: false, tree });
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
