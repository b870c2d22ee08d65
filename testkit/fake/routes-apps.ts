import { fullName, type FakeAnnotation, type FakeCheckRun } from "./model.js";
import { fail, list, ok, type Route } from "./router.js";
import { checkRun, idOf, repository, user } from "./shapes.js";
import { mayWrite } from "./world.js";

/** The app's own routes (installations, tokens), check runs (only apps write them), team memberships, the signed-in user. */
export const appRoutes: Route[] = [
  {
    method: "GET",
    template: "/app/installations",
    handle(world, { actor }) {
      if (actor.kind !== "app-jwt") fail(401, "A JSON web token could not be decoded");
      return list([...world.installations.values()].map((i) => ({ id: i.id, app_id: world.app.id, account: { ...user(i.account.login), type: i.account.type }, target_type: i.account.type, suspended_at: null })));
    },
  },
  {
    method: "POST",
    template: "/app/installations/{installation_id}/access_tokens",
    handle(world, { actor, params }) {
      if (actor.kind !== "app-jwt") fail(401, "A JSON web token could not be decoded");
      const installation = world.installations.get(Number(params.installation_id)) ?? fail(404, "Not Found");
      const expires = new Date(Date.parse(world.now()) + 3600_000).toISOString();
      return ok({ token: world.mintToken((actor as { appId: number }).appId, installation.id), expires_at: expires, permissions: { checks: "write", contents: "write", pull_requests: "write", issues: "write", members: "write", metadata: "read" }, repository_selection: "selected" }, 201);
    },
  },
  {
    method: "GET",
    template: "/installation/repositories",
    handle(world, { actor }) {
      if (actor.kind !== "app") fail(403, "You must authenticate with an installation access token");
      const names = world.installations.get((actor as { installationId: number }).installationId)!.repos;
      const repos = world.allRepos().filter((r) => names.has(fullName(r)));
      return list(repos.map(repository), (page, total) => ({ total_count: total, repositories: page }));
    },
  },
  {
    method: "GET",
    template: "/user",
    handle: (_w, { actor }) => (actor.kind === "person" ? ok(user(actor.login)) : fail(403, "Resource not accessible by integration")),
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/commits/{ref}/check-runs",
    handle(world, { repo, params, query }) {
      const sha = repo.git.resolve(params.ref!)?.sha ?? params.ref!;
      let runs = repo.checkRuns.filter((r) => r.headSha === sha);
      const name = query.get("check_name");
      const appId = query.get("app_id");
      if (name) runs = runs.filter((r) => r.name === name);
      if (appId) runs = runs.filter((r) => r.appId === Number(appId));
      if ((query.get("filter") ?? "latest") === "latest") {
        // The newest run per app and name.
        const newest = new Map<string, FakeCheckRun>();
        for (const r of runs) if ((newest.get(`${r.appId}:${r.name}`)?.id ?? -1) < r.id) newest.set(`${r.appId}:${r.name}`, r);
        runs = [...newest.values()];
      }
      return list(runs.sort((a, b) => b.id - a.id).map((r) => checkRun(repo, r, world.app)), (page, total) => ({ total_count: total, check_runs: page }));
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/check-runs",
    handle(world, { repo, body, actor }) {
      if (actor.kind !== "app") fail(403, "You must authenticate via a GitHub App.");
      mayWrite(world, repo, actor);
      const output = { title: String(body.output?.title ?? ""), summary: String(body.output?.summary ?? ""), text: String(body.output?.text ?? "") };
      const run: FakeCheckRun = {
        id: world.nextId(), name: String(body.name), headSha: String(body.head_sha), appId: (actor as { appId: number }).appId,
        externalId: body.external_id === undefined ? null : String(body.external_id),
        status: body.conclusion ? "completed" : (body.status ?? "queued"), conclusion: body.conclusion ?? null, output, history: [{ at: world.now(), text: output.text }],
        annotations: annotationsOf(body),
      };
      repo.checkRuns.push(run);
      return ok(checkRun(repo, run, world.app), 201);
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/check-runs/{check_run_id}",
    handle: (world, { repo, params }) => ok(checkRun(repo, repo.checkRuns.find((r) => r.id === Number(params.check_run_id)) ?? fail(404, "Not Found"), world.app)),
  },
  {
    method: "PATCH",
    template: "/repos/{owner}/{repo}/check-runs/{check_run_id}",
    handle(world, { repo, params, body, actor }) {
      const run = repo.checkRuns.find((r) => r.id === Number(params.check_run_id)) ?? fail(404, "Not Found");
      // Only the app that created a check run can change it: what makes it a record nobody else can forge.
      if (actor.kind !== "app") fail(403, "You must authenticate via a GitHub App.");
      if ((actor as { appId: number }).appId !== run.appId) fail(403, "Invalid app_id `" + (actor as { appId: number }).appId + "` - check run can only be modified by the GitHub App that created it.");
      if (body.external_id !== undefined) run.externalId = String(body.external_id);
      if (body.output) {
        run.output = { title: String(body.output.title ?? run.output.title), summary: String(body.output.summary ?? run.output.summary), text: String(body.output.text ?? run.output.text) };
        run.history.push({ at: world.now(), text: run.output.text });
        run.annotations = [...(run.annotations ?? []), ...annotationsOf(body)];
      }
      if (body.conclusion) Object.assign(run, { status: "completed", conclusion: body.conclusion });
      else if (body.status && run.status !== "completed") run.status = body.status;
      return ok(checkRun(repo, run, world.app));
    },
  },
  ...(["GET", "PUT", "DELETE"] as const).map(
    (method): Route => ({
      method,
      template: "/orgs/{org}/teams/{team_slug}/memberships/{username}",
      handle(world, { params, actor }) {
        const key = `${params.org}/${params.team_slug}`.toLowerCase();
        const login = params.username!.toLowerCase();
        if (world.goneLogins.has(login)) fail(404, "Not Found"); // renamed away: no such user any more
        const team = world.teams.get(key) ?? (method === "PUT" ? new Map<string, "active" | "pending">() : fail(404, "Not Found"));
        world.teams.set(key, team!);
        if (method !== "GET" && actor.kind === "anonymous") fail(401, "Requires authentication");
        if (method === "PUT") team!.set(login, "active");
        if (method === "DELETE") return team!.delete(login) ? ok(undefined, 204) : fail(404, "Not Found");
        const state = team!.get(login) ?? fail(404, "Not Found");
        return ok({ url: "", role: "member", state });
      },
    }),
  ),
  {
    // A team's members (active ones; pending invitations are not members), as the access plan reads them.
    method: "GET",
    template: "/orgs/{org}/teams/{team_slug}/members",
    handle(world, { params }) {
      const team = world.teams.get(`${params.org}/${params.team_slug}`.toLowerCase()) ?? fail(404, "Not Found");
      return list([...team!].filter(([login, state]) => state === "active" && !world.goneLogins.has(login)).map(([login]) => user(login)));
    },
  },
  {
    // The account with this id, under the login it has now (renamed accounts keep their id).
    method: "GET",
    template: "/user/{account_id}",
    handle(world, { params }) {
      const id = Number(params.account_id);
      for (const [login, kept] of world.renamedUsers) if (kept === id) return ok(user(login));
      const known = new Set<string>([...[...world.teams.values()].flatMap((m) => [...m.keys()]), ...world.allRepos().flatMap((r) => [...r.writers, ...[...r.pulls.values()].map((p) => p.author.toLowerCase())])]);
      for (const login of known) if (!world.goneLogins.has(login) && !world.renamedUsers.has(login) && idOf(login) === id) return ok(user(login));
      return fail(404, "Not Found");
    },
  },
];

/** A request's `output.annotations` (GitHub takes at most 50 a request). */
function annotationsOf(body: { output?: { annotations?: FakeAnnotation[] } }): FakeAnnotation[] {
  const given = body.output?.annotations ?? [];
  if (given.length > 50) fail(422, "Only 50 annotations are allowed per request");
  return given.map((a) => ({ path: a.path, start_line: a.start_line, end_line: a.end_line, annotation_level: a.annotation_level, message: a.message }));
}
