/** Where things live in an access repository (docs/reference/access-repository.md): a public contract. */
export const POLICY_PATH = ".github/jit-access.yml";
export const CODEOWNERS_PATHS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] as const;
export const GRANTS_DIR = "grants";

/** Size limits, enforced before any parsing. */
export const MAX_GRANT_BYTES = 16 * 1024;
export const MAX_POLICY_BYTES = 512 * 1024;
export const MAX_CODEOWNERS_BYTES = 3 * 1024 * 1024; // GitHub ignores CODEOWNERS files above 3 MB

const GRANT_PATH = /^grants\/([^/]+)\/([^/]+)\.ya?ml$/;
const SEGMENT = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;

export interface GrantPath {
  resource: string;
  name: string;
}

/** `grants/<resource>/<name>.yaml` with plain segments (no dot-dot, no hidden files, no nesting), or undefined. */
export function parseGrantPath(path: string): GrantPath | undefined {
  const match = GRANT_PATH.exec(path);
  if (!match) return undefined;
  const [, resource, name] = match as unknown as [string, string, string];
  if (!SEGMENT.test(resource) || !SEGMENT.test(name) || resource.includes("..") || name.includes("..")) return undefined;
  return { resource, name };
}

export function isUnderGrants(path: string): boolean {
  return path.startsWith(`${GRANTS_DIR}/`);
}
