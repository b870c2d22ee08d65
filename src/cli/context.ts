import { execFileSync } from "node:child_process";
import { Octokit } from "@octokit/rest";
import type { GitHub, RepoRef } from "../github/client.js";

/** A CLI failure with its exit code (1 validation or policy, 2 usage, 3 GitHub or network) and one clear line. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

export interface CliEnv {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** For tests: the client to use instead of one built from the environment. */
  github?: GitHub;
}

/**
 * GitHub from the environment: a token from GITHUB_TOKEN or GH_TOKEN, and the API from
 * GITHUB_API_URL (GitHub Enterprise Server: https://HOST/api/v3), as the gh CLI and Actions do.
 */
export function githubFrom(ctx: CliEnv): GitHub {
  if (ctx.github) return ctx.github;
  const token = ctx.env.GITHUB_TOKEN ?? ctx.env.GH_TOKEN;
  if (!token) throw new CliError("no token: set GITHUB_TOKEN (or GH_TOKEN) to a token that may open pull requests in the access repository", 2);
  const quiet = () => {};
  return new Octokit({ auth: token, baseUrl: ctx.env.GITHUB_API_URL ?? "https://api.github.com", userAgent: "jit-cli", log: { debug: quiet, info: quiet, warn: quiet, error: quiet } });
}

/** `--repo owner/name`, else the `origin` remote of the checkout the command runs in. */
export function repoFrom(ctx: CliEnv, flag: string | undefined): RepoRef {
  const text = flag ?? originOf(ctx.cwd);
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?$/.exec(text ?? "");
  if (!match) throw new CliError(flag ? `--repo must be owner/name, not ${flag}` : "no repository: pass --repo owner/name, or run inside a clone of the access repository", 2);
  return { owner: match[1]!, repo: match[2]! };
}

function originOf(cwd: string): string | undefined {
  let url: string;
  try {
    url = execFileSync("git", ["config", "--get", "remote.origin.url"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
  // https://host/owner/name(.git) or git@host:owner/name(.git)
  return /[/:]([^/:]+\/[^/]+?)(?:\.git)?$/.exec(url)?.[1];
}

/** GitHub errors become exit code 3 with GitHub's own message. */
export async function onGitHub<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const status = (error as { status?: number }).status;
    throw new CliError(`${what} failed${status ? ` (HTTP ${status})` : ""}: ${(error as Error).message.split("\n")[0]}`, 3);
  }
}
