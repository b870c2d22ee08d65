import { execFileSync } from "node:child_process";
import { Octokit } from "@octokit/rest";
import { RequestError } from "@octokit/request-error";
import type { GitHub, RepoRef } from "../github/client.js";

/** Exit codes, a public contract of the CLI (docs/reference/cli.md, "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** A check failed: invalid grant or policy, a refusal, no live grant to extend. */
  invalid: 1,
  usage: 2,
  /** GitHub answered with an error, or could not be reached (an Octokit RequestError). */
  github: 3,
  /** `jit plan` only (it never asks GitHub): the change widens access, so CI can ask for more review. */
  widens: 3,
  /** No token from GH_TOKEN, GITHUB_TOKEN or `gh auth token`. */
  auth: 4,
  /** A bug in jit itself (EX_SOFTWARE from sysexits.h): never reported as GitHub's fault. */
  internal: 70,
} as const;

/** A CLI failure with its exit code (see EXIT) and one clear line. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/**
 * The GitHub App whose records the CLI trusts. Anyone can write a status comment, a `jit-access`
 * check run (a workflow's GITHUB_TOKEN can) or a `Jit-*` trailer; only runs of this app are read.
 * With an id, the id decides (an app installed under another slug); otherwise the slug does.
 */
export interface TrustedApp {
  id?: number;
  slug?: string;
}

export const DEFAULT_APP_SLUG = "jit-access";

export interface CliEnv {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** For tests: the client to use instead of one built from the environment. */
  github?: GitHub;
  /** `--app-id` / `--app-slug` of the command, if it has them. */
  app?: { appId?: string; appSlug?: string };
}

/** `--app-id` over JIT_APP_ID, `--app-slug` over JIT_APP_SLUG; the slug `jit-access` when neither names the app. */
export function trustedAppFrom(ctx: CliEnv): TrustedApp {
  const idText = ctx.app?.appId ?? nonEmpty(ctx.env.JIT_APP_ID);
  const slug = ctx.app?.appSlug ?? nonEmpty(ctx.env.JIT_APP_SLUG);
  if (idText !== undefined) {
    const id = Number(idText);
    if (!/^\d+$/.test(idText) || !Number.isSafeInteger(id) || id <= 0) throw new CliError(`--app-id (or JIT_APP_ID) must be the app's numeric id, not ${idText}`, EXIT.usage);
    return { id, ...(slug !== undefined ? { slug } : {}) };
  }
  return { slug: slug ?? DEFAULT_APP_SLUG };
}

/** Whether a check run's app is the trusted one; a run without an app (none exist, but the type allows it) never is. */
export function isTrusted(app: TrustedApp, runApp: { id?: number; slug?: string } | null | undefined): boolean {
  if (!runApp) return false;
  if (app.id !== undefined && runApp.id !== app.id) return false;
  if (app.slug !== undefined && (runApp.slug ?? "").toLowerCase() !== app.slug.toLowerCase()) return false;
  return true;
}

const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v.trim());

/**
 * The token, in gh's own order: GH_TOKEN, then GITHUB_TOKEN, then what `gh auth token` prints
 * (for the GITHUB_API_URL host on Enterprise Server). gh is given a few seconds: a missing or
 * hanging gh means no token, never a stuck CLI.
 */
export function tokenFrom(env: Readonly<Record<string, string | undefined>>): string | undefined {
  return nonEmpty(env.GH_TOKEN) ?? nonEmpty(env.GITHUB_TOKEN) ?? ghAuthToken(env);
}

function ghAuthToken(env: Readonly<Record<string, string | undefined>>): string | undefined {
  let host: string | undefined;
  try {
    host = env.GITHUB_API_URL ? new URL(env.GITHUB_API_URL).host : undefined;
  } catch {
    host = undefined;
  }
  const args = ["auth", "token", ...(host && host !== "api.github.com" ? ["--hostname", host] : [])];
  try {
    // The CLI's own environment (tests pass theirs): PATH decides which gh, if any, runs.
    const out = execFileSync("gh", args, { env: { ...env }, encoding: "utf8", timeout: 5000, stdio: ["ignore", "pipe", "ignore"] });
    return nonEmpty(out);
  } catch {
    return undefined;
  }
}

/** GitHub from the environment: the token of tokenFrom, and the API from GITHUB_API_URL (Enterprise Server: https://HOST/api/v3). */
export function githubFrom(ctx: CliEnv): GitHub {
  if (ctx.github) return ctx.github;
  const token = tokenFrom(ctx.env);
  if (!token) throw new CliError("auth needed: set GH_TOKEN or GITHUB_TOKEN, or sign in with `gh auth login`, to a token that may read and open pull requests in the access repository", EXIT.auth);
  return clientFor(ctx.env, token);
}

/** A client when a token is at hand, else undefined: for `audit`, which works offline too. */
export function optionalGithub(ctx: CliEnv): GitHub | undefined {
  if (ctx.github) return ctx.github;
  const token = tokenFrom(ctx.env);
  return token ? clientFor(ctx.env, token) : undefined;
}

function clientFor(env: Readonly<Record<string, string | undefined>>, token: string): GitHub {
  const quiet = () => {};
  return new Octokit({ auth: token, baseUrl: env.GITHUB_API_URL ?? "https://api.github.com", userAgent: "jit-cli", log: { debug: quiet, info: quiet, warn: quiet, error: quiet } });
}

/** `--repo owner/name`, else the `origin` remote of the checkout the command runs in. */
export function repoFrom(ctx: CliEnv, flag: string | undefined): RepoRef {
  const text = flag ?? originOf(ctx.cwd);
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?$/.exec(text ?? "");
  if (!match) throw new CliError(flag ? `--repo must be owner/name, not ${flag}` : "no repository: pass --repo owner/name, or run inside a clone of the access repository", EXIT.usage);
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

/** An error GitHub answered with, or a failure to reach it: Octokit wraps both in a RequestError. */
export function isGitHubError(error: unknown): error is RequestError {
  return error instanceof RequestError;
}

/**
 * GitHub errors become exit code 3 with GitHub's own message. Anything else thrown inside is a
 * bug and passes through untouched, so it is reported as one (exit 70), not blamed on GitHub.
 */
export async function onGitHub<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isGitHubError(error)) throw error;
    throw new CliError(`${what} failed${error.status ? ` (HTTP ${error.status})` : ""}: ${error.message.split("\n")[0]}`, EXIT.github);
  }
}
