import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { formatDiagnostic } from "../diagnostics.js";
import { parseGrant } from "../grant/parse.js";
import { checkGrantRules } from "../grant/rules.js";
import type { GitHub, RepoRef } from "../github/client.js";
import { loadCodeownersAt, loadPolicyAt } from "../github/snapshot.js";
import { ownersOf } from "../policy/codeowners.js";
import { POLICY_PATH } from "../policy/paths.js";
import { CliError, githubFrom, onGitHub, repoFrom, type CliEnv } from "./context.js";

export interface RequestOptions {
  role: string;
  duration: string;
  reason: string;
  ticket?: string;
  start?: string;
  emergency?: boolean;
  repo?: string;
}

/** What a new request PR says beyond the grant itself: a note in its body, a suffix to its title. */
export interface RequestNote {
  command: string;
  titleSuffix?: string;
  body?: string;
}

/**
 * `jit request`: the grant is validated with the app's own rules, against the policy on the
 * default branch, before anything is created; then a branch, the grant file (a name that never
 * collides) and the PR. Returns the lines to print.
 */
export async function request(resource: string, o: RequestOptions, ctx: CliEnv, now: Date, randomId = () => randomBytes(2).toString("hex")): Promise<string[]> {
  const gh = githubFrom(ctx);
  const ref = repoFrom(ctx, o.repo);
  const { data: me } = await onGitHub("reading the signed-in user", () => gh.rest.users.getAuthenticated());
  return openRequest(gh, ref, me.login, resource, o, now, randomId, { command: "jit request" });
}

/**
 * The creation path every command that opens a request shares (`jit request`, `jit extend`):
 * validate against the default branch's policy, then branch, grant file and PR.
 */
export async function openRequest(gh: GitHub, ref: RepoRef, login: string, resource: string, o: RequestOptions, now: Date, randomId: () => string, note: RequestNote): Promise<string[]> {
  const { data: repository } = await onGitHub(`reading ${ref.owner}/${ref.repo}`, () => gh.rest.repos.get({ owner: ref.owner, repo: ref.repo }));
  const base = repository.default_branch;
  const policy = await onGitHub("reading the policy", () => loadPolicyAt(gh, ref, base));
  if (!policy) throw new CliError(`${ref.owner}/${ref.repo} has no ${POLICY_PATH} on ${base}: it is not an access repository`, 1);
  if (!policy.ok) throw new CliError(`the policy on ${base} is broken:\n${policy.diagnostics.map(formatDiagnostic).join("\n")}`, 1);

  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  const name = `${login.toLowerCase()}-${stamp}-${randomId()}`;
  const path = `grants/${resource}/${name}.yaml`;
  const grant = {
    requester: login,
    resource,
    role: o.role,
    duration: o.duration,
    reason: o.reason,
    ...(o.ticket ? { ticket: o.ticket } : {}),
    ...(o.start ? { start: o.start } : {}),
    ...(o.emergency ? { emergency: true } : {}),
  };
  const content = stringify(grant, { lineWidth: 0 });
  const parsed = parseGrant(path, content);
  const problems = parsed.ok ? checkGrantRules(parsed, policy.policy, { author: login, requestedAt: now }).diagnostics : parsed.diagnostics;
  if (problems.length > 0) throw new CliError(`the request is not valid; nothing was created:\n${problems.map((d) => `  ${d.message}`).join("\n")}`, 1);

  const codeowners = await onGitHub("reading CODEOWNERS", () => loadCodeownersAt(gh, ref, base));
  const branch = `jit/${name}`;
  const pr = await onGitHub("opening the request", async () => {
    const { data: head } = await gh.rest.git.getRef({ ...ref, ref: `heads/${base}` });
    await gh.rest.git.createRef({ ...ref, ref: `refs/heads/${branch}`, sha: head.object.sha });
    await gh.rest.repos.createOrUpdateFileContents({ ...ref, path, branch, message: `jit: request ${resource}/${o.role} for ${o.duration}`, content: Buffer.from(content).toString("base64") });
    const title = `jit: ${login} → ${resource}/${o.role} for ${o.duration}${note.titleSuffix ?? ""}`;
    const body = [o.reason, note.body, `Opened with \`${note.command}\`.`].filter(Boolean).join("\n\n");
    const { data } = await gh.rest.pulls.create({ ...ref, head: branch, base, title, body });
    return data;
  });
  const approvers = grant.emergency
    ? `break-glass: one approval from ${policy.policy.breakGlass?.approvers.join(", ")}`
    : (codeowners ? ownersOf(codeowners, path).owners : []).join(", ") || "nobody (no CODEOWNERS rule maps this path: the request will fail closed)";
  return [pr.html_url, `approvers: ${approvers}`];
}
