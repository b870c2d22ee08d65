/**
 * Settings from the environment. Probot reads its own (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET,
 * GHE_HOST, ...); the app needs its id to recognise its own comments and check runs.
 * Without APP_ID Probot runs its setup flow, and the app has nothing to recognise yet.
 */
export function appIdFromEnv(env: NodeJS.ProcessEnv): number {
  const id = Number(env.APP_ID);
  return Number.isInteger(id) && id > 0 ? id : 0;
}

/** Which repositories are access repositories (docs/reference/access-repository.md). */
export interface AccessRepositories {
  /** Lowercased `owner/repo` names; null: every installed repository with a policy. */
  readonly names: ReadonlySet<string> | null;
}

export const EVERY_REPOSITORY: AccessRepositories = { names: null };

/** GitHub's owner (login) and repository name characters; anything else is a typo or a URL. */
const OWNER_REPO = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\/[A-Za-z0-9._-]+$/;

/**
 * `JIT_ACCESS_REPOSITORIES`: comma-separated `owner/repo`, case-insensitive. Unset: every
 * repository. Set, even to nothing, it is an allow-list: an empty one admits no repository
 * (fails closed). A malformed entry is an error, not skipped: a typo in a security setting
 * must stop the start, not silently drop a repository.
 */
export function parseAccessRepositories(value: string | undefined): { ok: true; repositories: AccessRepositories } | { ok: false; error: string } {
  if (value === undefined) return { ok: true, repositories: EVERY_REPOSITORY };
  const names = new Set<string>();
  for (const raw of value.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue; // "a,b," and an empty value are fine
    if (!OWNER_REPO.test(entry)) {
      return { ok: false, error: `JIT_ACCESS_REPOSITORIES: ${JSON.stringify(entry)} is not owner/repo (expected a comma-separated list such as acme/access,acme/tools)` };
    }
    names.add(entry.toLowerCase());
  }
  return { ok: true, repositories: { names } };
}

export function isAccessRepository(repositories: AccessRepositories, ref: { owner: string; repo: string }): boolean {
  return repositories.names === null || repositories.names.has(`${ref.owner}/${ref.repo}`.toLowerCase());
}

/**
 * JIT_ACCESS_REPOSITORIES as the running app applies it: by name (case-insensitive), and by the id
 * of each repository a configured name was seen with (at start-up, or in its first webhook). A
 * rename or transfer changes the name but not the id, so a configured repository stays an access
 * repository under its new name — its live grants must still be revoked on time — and the app
 * warns, with both names, until JIT_ACCESS_REPOSITORIES is updated. A new repository that takes
 * the old name is still matched by that name, as the setting says.
 */
export class AccessRepositorySet {
  /** Repository id → the configured name it was first seen under. */
  private readonly configured = new Map<number, string>();
  /** Lower-case names that configured repositories (by id) go by now. */
  private readonly renamed = new Map<string, number>();

  constructor(
    readonly repositories: AccessRepositories,
    private readonly warn: (message: string) => void,
  ) {}

  /** Whether a repository is an access repository; `id`, when known, is remembered or matched. */
  includes(ref: { owner: string; repo: string; id?: number }): boolean {
    if (this.repositories.names === null) return true;
    const name = `${ref.owner}/${ref.repo}`.toLowerCase();
    if (this.repositories.names.has(name)) {
      if (ref.id !== undefined && !this.configured.has(ref.id)) this.configured.set(ref.id, name);
      return true;
    }
    if (ref.id === undefined) return this.renamed.has(name);
    const was = this.configured.get(ref.id);
    if (was === undefined) return false;
    if (this.renamed.get(name) !== ref.id) {
      this.renamed.set(name, ref.id);
      this.warn(`JIT_ACCESS_REPOSITORIES names ${was}, which is now ${ref.owner}/${ref.repo} (renamed or transferred; the same repository, id ${ref.id}): it is kept as an access repository. Update JIT_ACCESS_REPOSITORIES to the new name.`);
    }
    return true;
  }
}

/** What the app says at start-up about which repositories it serves. */
export function accessRepositoriesNotice(repositories: AccessRepositories): { level: "warn" | "info"; message: string } {
  if (repositories.names === null) {
    return {
      level: "warn",
      message:
        "JIT_ACCESS_REPOSITORIES is not set: every repository this app is installed on that has .github/jit-access.yml on its default branch is an access repository. Install the app on access repositories only, or set JIT_ACCESS_REPOSITORIES=owner/repo,...",
    };
  }
  if (repositories.names.size === 0) {
    return { level: "warn", message: "JIT_ACCESS_REPOSITORIES is set but names no repository: every repository is ignored" };
  }
  return { level: "info", message: `access repositories (JIT_ACCESS_REPOSITORIES): ${[...repositories.names].join(", ")}; every other repository is ignored` };
}

/** Probot's `defaultWebhookSecret`: what it verifies signatures with when WEBHOOK_SECRET is unset. */
const PROBOT_DEFAULT_SECRET = "development";

/**
 * What must stop the start (pure; the entry point prints these and exits non-zero). Without
 * APP_ID Probot runs its setup flow and loads no app, so only a configured app is checked. No
 * message ever contains a secret's value.
 */
export function startupProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if ((env.APP_ID ?? "").trim() !== "") {
    const secret = (env.WEBHOOK_SECRET ?? "").trim();
    const fix = "Set WEBHOOK_SECRET to the webhook secret of the GitHub App.";
    if (secret === "") {
      problems.push(
        `WEBHOOK_SECRET is not set: refusing to start, because Probot would then check webhook signatures with the publicly known secret "${PROBOT_DEFAULT_SECRET}" and anyone could forge events. ${fix}`,
      );
    } else if (secret === PROBOT_DEFAULT_SECRET) {
      problems.push(`WEBHOOK_SECRET is "${PROBOT_DEFAULT_SECRET}", Probot's publicly known default: refusing to start. ${fix}`);
    }
  }
  const repositories = parseAccessRepositories(env.JIT_ACCESS_REPOSITORIES);
  if (!repositories.ok) problems.push(repositories.error);
  return problems;
}
