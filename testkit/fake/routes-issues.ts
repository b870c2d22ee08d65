import { fullName, type FakeComment, type FakePull, type FakeRepo } from "./model.js";
import { fail, list, ok, type Route } from "./router.js";
import { comment, pull, repository, review, searchItem, user } from "./shapes.js";
import { emitPull, loginOf, mayWrite, pullOf, touch } from "./world.js";
import type { World } from "./world-type.js";

/** Issue comments (a PR's conversation), its timeline, labels, and the issue search. */
function findComment(repo: FakeRepo, id: string): { pr: FakePull; c: FakeComment } {
  for (const pr of repo.pulls.values()) {
    const c = pr.comments.find((x) => x.id === Number(id));
    if (c) return { pr, c };
  }
  return fail(404, "Not Found");
}

function issueOf(repo: FakeRepo, pr: FakePull) {
  return { number: pr.number, title: pr.title, state: pr.state, user: user(pr.author), labels: pr.labels.map((name) => ({ name })), pull_request: { url: `https://api.github.com/repos/${fullName(repo)}/pulls/${pr.number}` } };
}

function emitComment(world: World, repo: FakeRepo, pr: FakePull, c: FakeComment, action: string, by: string, extra: Record<string, unknown> = {}) {
  world.emit(repo, "issue_comment", action, { issue: issueOf(repo, pr), comment: comment(repo, pr, c, world.app), ...extra }, by);
}

export const issueRoutes: Route[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    handle: (world, { repo, params, query }) => {
      const pr = pullOf(repo, params.issue_number!);
      // `since`: only comments updated at or after that time, as GitHub answers.
      const since = query.get("since");
      return list(pr.comments.filter((c) => !since || c.updatedAt >= since).map((c) => comment(repo, pr, c, world.app)));
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    handle(world, { repo, params, body, actor }) {
      mayWrite(world, repo, actor);
      const pr = pullOf(repo, params.issue_number!);
      const at = world.now();
      const login = loginOf(world, actor);
      const c: FakeComment = { id: world.nextId(), body: String(body.body ?? ""), login, createdAt: at, updatedAt: at, ...(actor.kind === "app" ? { appId: actor.appId } : {}) };
      pr.comments.push(c);
      touch(world, pr);
      emitComment(world, repo, pr, c, "created", login);
      return ok(comment(repo, pr, c, world.app), 201);
    },
  },
  { method: "GET", template: "/repos/{owner}/{repo}/issues/comments/{comment_id}", handle: (world, { repo, params }) => { const { pr, c } = findComment(repo, params.comment_id!); return ok(comment(repo, pr, c, world.app)); } },
  {
    method: "PATCH",
    template: "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    handle(world, { repo, params, body, actor }) {
      // Anyone with write access may edit anyone's comment, the app's included; GitHub keeps the app's mark on it.
      mayWrite(world, repo, actor);
      const { pr, c } = findComment(repo, params.comment_id!);
      const from = c.body;
      c.body = String(body.body ?? "");
      c.updatedAt = world.now();
      touch(world, pr);
      emitComment(world, repo, pr, c, "edited", loginOf(world, actor), { changes: { body: { from } } });
      return ok(comment(repo, pr, c, world.app));
    },
  },
  {
    method: "DELETE",
    template: "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    handle(world, { repo, params, actor }) {
      mayWrite(world, repo, actor);
      const { pr, c } = findComment(repo, params.comment_id!);
      pr.comments.splice(pr.comments.indexOf(c), 1);
      touch(world, pr);
      emitComment(world, repo, pr, c, "deleted", loginOf(world, actor));
      return ok(undefined, 204);
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/timeline",
    handle(world, { repo, params }) {
      const pr = pullOf(repo, params.issue_number!);
      const items: Record<string, unknown>[] = [
        ...pr.comments.map((c) => ({ event: "commented", ...comment(repo, pr, c, world.app), actor: user(c.login) })),
        ...pr.events.map((e) => (e.event === "reviewed" ? reviewedEvent(pr, e) : { id: e.id, event: e.event, actor: user(e.actor), created_at: e.createdAt, performed_via_github_app: null, ...(e.label ? { label: { name: e.label } } : {}), ...(e.source !== undefined ? { source: mention(repo, e.source) } : {}), ...(e.reviewId !== undefined ? { dismissed_review: { state: e.dismissedState, review_id: e.reviewId, dismissal_message: null } } : {}) })),
      ];
      const at = (item: Record<string, unknown>) => String(item.created_at ?? item.submitted_at);
      return list(items.sort((a, b) => at(a).localeCompare(at(b)) || Number(a.id) - Number(b.id)));
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    handle(world, { repo, params, body, actor }) {
      mayWrite(world, repo, actor);
      const pr = pullOf(repo, params.issue_number!);
      const login = loginOf(world, actor);
      for (const name of (body.labels ?? []) as string[]) {
        if (pr.labels.includes(name)) continue;
        pr.labels.push(name);
        pr.events.push({ id: world.nextId(), event: "labeled", actor: login, createdAt: world.now(), label: name });
        touch(world, pr);
        emitPull(world, repo, pr, "labeled", login, { label: { name } });
      }
      return ok(pr.labels.map((name) => ({ name })));
    },
  },
  {
    // Replaces every label: GitHub records (and sends) an unlabeled event for each one removed and
    // a labeled event for each one added, in that order.
    method: "PUT",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    handle(world, { repo, params, body, actor }) {
      mayWrite(world, repo, actor);
      const pr = pullOf(repo, params.issue_number!);
      const login = loginOf(world, actor);
      const wanted = [...new Set((body.labels ?? []) as string[])];
      for (const name of pr.labels.filter((l) => !wanted.includes(l))) {
        pr.labels = pr.labels.filter((l) => l !== name);
        pr.events.push({ id: world.nextId(), event: "unlabeled", actor: login, createdAt: world.now(), label: name });
        touch(world, pr);
        emitPull(world, repo, pr, "unlabeled", login, { label: { name } });
      }
      for (const name of wanted.filter((l) => !pr.labels.includes(l))) {
        pr.labels.push(name);
        pr.events.push({ id: world.nextId(), event: "labeled", actor: login, createdAt: world.now(), label: name });
        touch(world, pr);
        emitPull(world, repo, pr, "labeled", login, { label: { name } });
      }
      return ok(pr.labels.map((name) => ({ name })));
    },
  },
  {
    method: "DELETE",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
    handle(world, { repo, params, actor }) {
      mayWrite(world, repo, actor);
      const pr = pullOf(repo, params.issue_number!);
      if (!pr.labels.includes(params.name!)) fail(404, "Label does not exist");
      const login = loginOf(world, actor);
      pr.labels = pr.labels.filter((l) => l !== params.name);
      pr.events.push({ id: world.nextId(), event: "unlabeled", actor: login, createdAt: world.now(), label: params.name! });
      touch(world, pr);
      emitPull(world, repo, pr, "unlabeled", login, { label: { name: params.name } });
      return ok(pr.labels.map((name) => ({ name })));
    },
  },
  {
    method: "GET",
    template: "/search/issues",
    handle(world, { query }) {
      const q = searchQuery(query.get("q") ?? "");
      const items: Record<string, unknown>[] = [];
      for (const repo of world.allRepos()) {
        if (q.owner && repo.owner.toLowerCase() !== q.owner) continue;
        if (q.repo && fullName(repo).toLowerCase() !== q.repo) continue;
        for (const pr of repo.pulls.values()) if (q.matches(pr)) items.push(searchItem(repo, pr));
      }
      return list(items, (page, total) => ({ total_count: total, incomplete_results: false, items: page }));
    },
  },
];

/** The qualifiers of GitHub's issue search that matter here: is:, label:, org:/user:/repo:, author:, updated:>=. */
function searchQuery(q: string) {
  const terms = q.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
  const value = (t: string) => t.slice(t.indexOf(":") + 1).replace(/"/g, "");
  const filters: ((pr: FakePull) => boolean)[] = [];
  let owner: string | undefined;
  let repo: string | undefined;
  for (const t of terms) {
    const [key] = t.split(":");
    const v = value(t);
    if (t === "is:open") filters.push((p) => p.state === "open");
    else if (t === "is:closed") filters.push((p) => p.state === "closed");
    else if (t === "is:merged") filters.push((p) => p.merged);
    else if (t === "is:unmerged") filters.push((p) => !p.merged);
    else if (key === "label") filters.push((p) => p.labels.includes(v));
    else if (key === "author") filters.push((p) => p.author.toLowerCase() === v.toLowerCase());
    else if (key === "updated" && v.startsWith(">=")) filters.push((p) => p.updatedAt >= v.slice(2));
    else if (key === "org" || key === "user") owner = v.toLowerCase();
    else if (key === "repo") repo = v.toLowerCase();
  }
  return { owner, repo, matches: (pr: FakePull) => filters.every((f) => f(pr)) };
}

/** A `cross-referenced` event's source as GitHub gives it: the mentioning issue, a PR here (`pull_request` set). */
function mention(repo: FakeRepo, number: number): Record<string, unknown> {
  const p = pull(repo, pullOf(repo, String(number)));
  return { type: "issue", issue: { number, title: p.title, state: p.state, html_url: p.html_url, user: p.user, pull_request: { url: p.url, html_url: p.html_url }, repository: repository(repo) } };
}

/**
 * A `reviewed` timeline event as GitHub shows it: the review itself (its id, author, commit and
 * current state, in lower case), with `submitted_at` and no `actor` or `created_at`.
 */
function reviewedEvent(pr: FakePull, e: { reviewId?: number }): Record<string, unknown> {
  const r = pr.reviews.find((x) => x.id === e.reviewId)!;
  return { ...review(pr, r), event: "reviewed", state: r.state.toLowerCase(), author_association: "MEMBER" };
}
