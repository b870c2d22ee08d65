import { Arena } from "./harness.js";

/**
 * An arena prepared by `before`, then booted. Its in-memory GitHub computes ETags as GitHub does,
 * from a page's body alone (testkit/fake-github.ts): a page whose items did not change is answered
 * 304 even when a new page now follows it, and the 304 carries no Link header (observed and worked
 * around by app-sre/github-mirror, PRs #57, #113 and #290: "the number of pending invitations is
 * the same as the number of items per page ... invite another person ... the response is a 304 and
 * the request does not include any pagination headers").
 */
export async function arenaWithGitHubEtags(o: { policy?: string; codeowners?: string } = {}, before?: (arena: Arena) => void): Promise<Arena> {
  const arena = new Arena(o);
  before?.(arena);
  await arena.boot();
  return arena;
}
