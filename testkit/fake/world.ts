import { MergeConflict } from "./git.js";
import { fullName, type Actor, type BranchProtection, type FakePull, type FakeRepo } from "./model.js";
import { fail } from "./router.js";
import { pull } from "./shapes.js";
import type { World } from "./world-type.js";

/** The login an action is shown as: a person, or the app's bot account. */
export function loginOf(world: World, actor: Actor): string {
  if (actor.kind === "person") return actor.login;
  if (actor.kind === "app" || actor.kind === "app-jwt") return actor.appId === world.app.id ? `${world.app.slug}[bot]` : `app-${actor.appId}[bot]`;
  return "ghost";
}

/** Writes need an installation of an app on the repository, or a person with write access. */
export function mayWrite(world: World, repo: FakeRepo, actor: Actor): void {
  if (actor.kind === "app" && world.installations.get(actor.installationId)?.repos.has(fullName(repo))) return;
  if (actor.kind === "person" && repo.writers.has(actor.login.toLowerCase())) return;
  fail(actor.kind === "anonymous" ? 401 : 404, actor.kind === "anonymous" ? "Requires authentication" : "Not Found");
}

export function pullOf(repo: FakeRepo, number: string | number): FakePull {
  return repo.pulls.get(Number(number)) ?? fail(404, "Not Found");
}

export function touch(world: World, pr: FakePull): void {
  pr.updatedAt = world.now();
}

/** GitHub's `cross-referenced` timeline event on every PR of the repository that `pr`'s body mentions (`#N`), once each. */
export function crossReference(world: World, repo: FakeRepo, pr: FakePull, actor: string): void {
  for (const n of new Set([...pr.body.matchAll(/#(\d+)\b/g)].map((m) => Number(m[1])))) {
    const target = repo.pulls.get(n);
    if (!target || n === pr.number || target.events.some((e) => e.event === "cross-referenced" && e.source === pr.number)) continue;
    target.events.push({ id: world.nextId(), event: "cross-referenced", actor, createdAt: world.now(), source: pr.number });
  }
}

export function emitPull(world: World, repo: FakeRepo, pr: FakePull, action: string, sender: string, extra: Record<string, unknown> = {}): void {
  world.emit(repo, "pull_request", action, { number: pr.number, pull_request: pull(repo, pr), ...extra }, sender);
}

/** A push to `branch`: open PRs with that head follow it (GitHub sends `synchronize`). */
export function pushed(world: World, repo: FakeRepo, branch: string, sender: string): void {
  const sha = repo.git.branches.get(branch);
  for (const pr of repo.pulls.values()) {
    if (pr.state !== "open" || pr.headRef !== branch || !sha || pr.headSha === sha) continue;
    pr.headSha = sha;
    touch(world, pr);
    emitPull(world, repo, pr, "synchronize", sender);
  }
}

/** A squash merge, as GitHub does it for the app and for people alike. */
export function mergePull(world: World, repo: FakeRepo, pr: FakePull, by: string, body: { sha?: string; commit_title?: string; commit_message?: string }): Record<string, unknown> {
  if (pr.state !== "open") fail(405, "Pull Request is not mergeable");
  if (body.sha && body.sha !== pr.headSha) fail(409, "Head branch was modified. Review and try the merge again.");
  const rules = repo.protection.get(pr.baseRef);
  if (rules) refuseUnprotected(repo, pr, rules, by);
  const base = repo.git.resolve(pr.baseRef) ?? fail(422, "base branch not found");
  const head = repo.git.commits.get(pr.headSha) ?? fail(422, "head commit not found");
  let changes;
  try {
    changes = repo.git.squashChanges(base, head);
  } catch (error) {
    if (error instanceof MergeConflict) fail(405, "Pull Request is not mergeable");
    throw error;
  }
  const title = body.commit_title ?? `${pr.title} (#${pr.number})`;
  const message = body.commit_message ? `${title}\n\n${body.commit_message}` : title;
  const commit = repo.git.commit(pr.baseRef, changes, { message, author: pr.author, committer: "web-flow", date: world.now() });
  const at = world.now();
  Object.assign(pr, { merged: true, mergedAt: at, mergedBy: by, mergeCommitSha: commit.sha, state: "closed", closedAt: at, updatedAt: at });
  pr.events.push({ id: world.nextId(), event: "merged", actor: by, createdAt: at }, { id: world.nextId(), event: "closed", actor: by, createdAt: at });
  emitPull(world, repo, pr, "closed", by);
  return { sha: commit.sha, merged: true, message: "Pull Request successfully merged" };
}

/** What branch protection refuses a merge for, with GitHub's messages. */
function refuseUnprotected(repo: FakeRepo, pr: FakePull, rules: BranchProtection, by: string): void {
  const actor = by.toLowerCase();
  if (rules.restrictPushesTo && !rules.restrictPushesTo.some((login) => login.toLowerCase() === actor)) fail(405, `You're not authorized to push to this branch. Visit https://docs.github.com/repositories/configuring-branches-and-merges-in-your-repository/managing-protected-branches/about-protected-branches for more information.`);
  for (const name of rules.requiredChecks ?? []) {
    const newest = repo.checkRuns.filter((r) => r.headSha === pr.headSha && r.name === name).sort((a, b) => b.id - a.id)[0];
    if (!newest || newest.status !== "completed") fail(405, `Required status check "${name}" is expected.`);
    if (!["success", "neutral", "skipped"].includes(newest!.conclusion ?? "")) fail(405, `Required status check "${name}" is failing.`);
  }
  const required = rules.requiredApprovals ?? 0;
  const latest = new Map<string, string>();
  for (const r of pr.reviews) if (r.state !== "COMMENTED") latest.set(r.login.toLowerCase(), r.state);
  const approvals = [...latest.values()].filter((state) => state === "APPROVED").length;
  const bypasses = (rules.bypassReviews ?? []).some((login) => login.toLowerCase() === actor);
  if (approvals < required && !bypasses) fail(405, `At least ${required} approving review${required === 1 ? " is" : "s are"} required by reviewers with write access.`);
}
