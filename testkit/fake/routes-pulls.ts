import type { FakePull, FakeReview } from "./model.js";
import { fail, list, ok, type Route } from "./router.js";
import { pull, review } from "./shapes.js";
import { crossReference, emitPull, loginOf, mayWrite, mergePull, pullOf, touch } from "./world.js";

/** Pull requests, their files, commits and reviews; merging, closing and reopening. */
export const pullRoutes: Route[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/pulls",
    handle(_w, { repo, query }) {
      const state = query.get("state") ?? "open";
      const head = query.get("head");
      const base = query.get("base");
      let found = [...repo.pulls.values()].filter((p) => state === "all" || p.state === state);
      if (head) found = found.filter((p) => `${repo.owner}:${p.headRef}` === head || p.headRef === head);
      if (base) found = found.filter((p) => p.baseRef === base);
      const byUpdated = query.get("sort") === "updated";
      // GitHub's default: newest first when sorted by creation, else oldest first.
      const desc = (query.get("direction") ?? (query.get("sort") && query.get("sort") !== "created" ? "asc" : "desc")) === "desc";
      const key = (p: FakePull) => (byUpdated ? p.updatedAt : p.createdAt) + String(p.number).padStart(8, "0");
      found.sort((a, b) => (desc ? key(b).localeCompare(key(a)) : key(a).localeCompare(key(b))));
      return list(found.map((p) => pull(repo, p)));
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/pulls",
    handle(world, { repo, body, actor }) {
      mayWrite(world, repo, actor);
      const head = String(body.head ?? "").replace(/^[^:]+:/, "");
      const base = String(body.base ?? repo.defaultBranch);
      const headCommit = repo.git.resolve(head);
      const baseCommit = repo.git.resolve(base);
      if (!headCommit || !baseCommit || !repo.git.branches.has(head)) fail(422, "Validation Failed: head or base does not exist");
      if (headCommit!.sha === baseCommit!.sha || repo.git.ancestors(baseCommit!.sha).has(headCommit!.sha)) fail(422, `No commits between ${base} and ${head}`);
      if ([...repo.pulls.values()].some((p) => p.state === "open" && p.headRef === head && p.baseRef === base)) fail(422, `A pull request already exists for ${repo.owner}:${head}.`);
      const number = Math.max(0, ...repo.pulls.keys()) + 1;
      const at = world.now();
      const login = loginOf(world, actor);
      const pr: FakePull = {
        number, title: String(body.title ?? head), body: String(body.body ?? ""), author: login, headRef: head, baseRef: base, headSha: headCommit!.sha,
        state: "open", draft: !!body.draft, merged: false, mergedAt: null, mergeCommitSha: null, createdAt: at, updatedAt: at, closedAt: null,
        labels: [], reviews: [], comments: [], events: [],
      };
      repo.pulls.set(number, pr);
      crossReference(world, repo, pr, login);
      emitPull(world, repo, pr, "opened", login);
      return ok(pull(repo, pr), 201);
    },
  },
  { method: "GET", template: "/repos/{owner}/{repo}/pulls/{pull_number}", handle: (_w, { repo, params }) => ok(pull(repo, pullOf(repo, params.pull_number!))) },
  {
    method: "PATCH",
    template: "/repos/{owner}/{repo}/pulls/{pull_number}",
    handle(world, { repo, params, body, actor }) {
      mayWrite(world, repo, actor);
      const pr = pullOf(repo, params.pull_number!);
      const login = loginOf(world, actor);
      if (body.title !== undefined) pr.title = String(body.title);
      if (body.body !== undefined) {
        pr.body = String(body.body);
        crossReference(world, repo, pr, login);
      }
      if (body.state && body.state !== pr.state) {
        if (pr.merged) fail(422, "Cannot change the state of a merged pull request");
        const at = world.now();
        pr.state = body.state;
        pr.closedAt = body.state === "closed" ? at : null;
        pr.events.push({ id: world.nextId(), event: body.state === "closed" ? "closed" : "reopened", actor: login, createdAt: at });
        if (body.state === "open") {
          // Reopening picks up whatever the head branch holds now.
          const sha = repo.git.branches.get(pr.headRef);
          if (sha) pr.headSha = sha;
        }
        touch(world, pr);
        emitPull(world, repo, pr, body.state === "closed" ? "closed" : "reopened", login);
      }
      return ok(pull(repo, pr));
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/pulls/{pull_number}/files",
    handle(_w, { repo, params }) {
      const pr = pullOf(repo, params.pull_number!);
      const head = repo.git.commits.get(pr.headSha)!;
      const base = repo.git.mergeBase(head.sha, repo.git.resolve(pr.baseRef)!.sha);
      return list(repo.git.diff(base, head).map((f) => ({ sha: f.blobSha, filename: f.path, status: f.status, additions: 1, deletions: 0, changes: 1 })));
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/pulls/{pull_number}/commits",
    handle(_w, { repo, params }) {
      const pr = pullOf(repo, params.pull_number!);
      const base = repo.git.mergeBase(pr.headSha, repo.git.resolve(pr.baseRef)!.sha);
      const inBase = base ? repo.git.ancestors(base.sha) : new Set<string>();
      const commits = [...repo.git.ancestors(pr.headSha)].filter((sha) => !inBase.has(sha)).map((sha) => repo.git.commits.get(sha)!).sort((a, b) => a.seq - b.seq);
      return list(commits.map((c) => ({ sha: c.sha, commit: { message: c.message }, author: { login: c.author, type: "User" }, committer: { login: c.committer, type: "User" } })));
    },
  },
  { method: "GET", template: "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", handle: (_w, { repo, params }) => { const pr = pullOf(repo, params.pull_number!); return list(pr.reviews.map((r) => review(pr, r))); } },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
    handle(world, { repo, params, body, actor }) {
      mayWrite(world, repo, actor);
      const pr = pullOf(repo, params.pull_number!);
      const login = loginOf(world, actor);
      const states: Record<string, FakeReview["state"]> = { APPROVE: "APPROVED", REQUEST_CHANGES: "CHANGES_REQUESTED", COMMENT: "COMMENTED" };
      const state = states[String(body.event)] ?? fail(422, "Unprocessable Entity: pending reviews are not modelled");
      if (state !== "COMMENTED" && login.toLowerCase() === pr.author.toLowerCase()) fail(422, `Can not ${state === "APPROVED" ? "approve" : "request changes on"} your own pull request`);
      if (pr.state !== "open") fail(422, "Can not review a closed pull request");
      const r = { id: world.nextId(), login, state, commitId: body.commit_id ?? pr.headSha, submittedAt: world.now() };
      pr.reviews.push(r);
      pr.events.push({ id: world.nextId(), event: "reviewed", actor: login, createdAt: r.submittedAt, reviewId: r.id });
      touch(world, pr);
      world.emit(repo, "pull_request_review", "submitted", { review: { ...review(pr, r), state: state.toLowerCase() }, pull_request: pull(repo, pr) }, login);
      return ok(review(pr, r));
    },
  },
  {
    method: "PUT",
    template: "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals",
    handle(world, { repo, params, actor }) {
      mayWrite(world, repo, actor);
      const pr = pullOf(repo, params.pull_number!);
      const r = pr.reviews.find((x) => x.id === Number(params.review_id)) ?? fail(404, "Not Found");
      if (r.state !== "APPROVED" && r.state !== "CHANGES_REQUESTED") fail(422, "Can not dismiss a review that is not approved or changes requested");
      const before = r.state;
      r.state = "DISMISSED";
      const login = loginOf(world, actor);
      pr.events.push({ id: world.nextId(), event: "review_dismissed", actor: login, createdAt: world.now(), reviewId: r.id, dismissedState: before.toLowerCase() });
      touch(world, pr);
      world.emit(repo, "pull_request_review", "dismissed", { review: { ...review(pr, r), state: "dismissed" }, pull_request: pull(repo, pr) }, login);
      return ok(review(pr, r));
    },
  },
  {
    method: "PUT",
    template: "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
    handle(world, { repo, params, body, actor }) {
      mayWrite(world, repo, actor);
      return ok(mergePull(world, repo, pullOf(repo, params.pull_number!), loginOf(world, actor), body ?? {}));
    },
  },
];
