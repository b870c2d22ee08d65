import { basename, resolve } from "node:path";
import type { AuditPage } from "./audit-html.js";
import { repoFrom, type CliEnv } from "./context.js";

/**
 * What the HTML report needs besides the grants: its title and where `#N` links point. The
 * repository is `--repo` or the clone's origin; the web host is GITHUB_SERVER_URL (as Actions
 * sets it), else the host of GITHUB_API_URL (GitHub Enterprise Server), else github.com. Without
 * a repository the report still renders, with plain PR numbers.
 */
export function auditPage(ctx: CliEnv, root: string, repoFlag: string | undefined, now: Date): AuditPage {
  let repo: { owner: string; repo: string } | undefined;
  try {
    repo = repoFrom({ ...ctx, cwd: root }, repoFlag);
  } catch (error) {
    if (repoFlag !== undefined) throw error; // a malformed --repo is a usage error; a clone without origin is not
  }
  const server = webServer(ctx.env);
  return {
    title: repo ? `${repo.owner}/${repo.repo}` : basename(resolve(root)),
    now,
    ...(repo && server ? { repoUrl: `${server}/${repo.owner}/${repo.repo}` } : {}),
  };
}

/** An http(s) origin only: the value ends up in links, and nothing else may. */
function webServer(env: CliEnv["env"]): string | undefined {
  const enterprise = /^(.*)\/api\/v3\/?$/.exec(env.GITHUB_API_URL ?? "")?.[1];
  const candidates = [env.GITHUB_SERVER_URL, enterprise, "https://github.com"];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      const url = new URL(candidate);
      if (url.protocol === "https:" || url.protocol === "http:") return url.origin;
    } catch {
      // not a URL: try the next one
    }
  }
  return undefined;
}
