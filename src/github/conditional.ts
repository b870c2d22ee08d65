import type { GitHub } from "./client.js";

interface RequestOptions {
  method: string;
  url: string;
  headers?: Record<string, string | undefined>;
  [param: string]: unknown;
}
interface CachedResponse {
  status: number;
  url: string;
  headers: Record<string, string>;
  data: unknown;
}
/** The parts of an Octokit client the wrap needs (GitHub, the app's port, names only what the app calls). */
type Hooked = GitHub & {
  hook: { wrap(name: "request", hook: (request: (options: RequestOptions) => Promise<CachedResponse>, options: RequestOptions) => Promise<CachedResponse>): void };
  request: { endpoint: { parse(options: RequestOptions): { url: string; headers: Record<string, string> } } };
};

/**
 * Conditional reads: every GET that GitHub answered with an ETag is sent again with
 * `If-None-Match`, and a 304 is answered from what was kept. GitHub does not count a 304 against
 * the installation's primary rate limit, and an evaluation reads the same pull request, files,
 * reviews, commits, check runs and memberships again on every event. A 304 means the resource is
 * exactly as kept, so nothing decided from it is stale.
 *
 * Kept per installation (the URL alone would mix what two installations may see), the most recent
 * `MAX_ENTRIES` responses; a request that sets its own `If-None-Match` is left alone.
 */
const MAX_ENTRIES = 4_000;
const kept = new Map<string, { etag: string; response: CachedResponse }>();
const wrapped = new WeakSet<object>();

/** Conditional reads for `gh` (idempotent per client); `scope` names the installation. */
export function conditionalReads(gh: GitHub, scope: string): GitHub {
  const client = gh as Hooked;
  if (wrapped.has(client)) return gh;
  wrapped.add(client);
  client.hook.wrap("request", async (request, options) => {
    if (options.method !== "GET" || hasHeader(options.headers, "if-none-match")) return request(options);
    const parsed = client.request.endpoint.parse(options);
    const key = `${scope} ${parsed.url} ${parsed.headers.accept ?? ""}`;
    const known = kept.get(key);
    if (known) options.headers = { ...options.headers, "if-none-match": known.etag };
    try {
      const response = await request(options);
      const etag = response.headers.etag;
      kept.delete(key);
      if (etag && response.status === 200 && !mayHideNextPage(parsed.url, response)) {
        if (kept.size >= MAX_ENTRIES) kept.delete(kept.keys().next().value!);
        // A copy: callers may change what they were given (Octokit's paginator rewrites list bodies).
        kept.set(key, { etag, response: structuredClone(response) });
      }
      return response;
    } catch (error) {
      if (known && (error as { status?: number }).status === 304) {
        // Most recently used: kept longest.
        kept.delete(key);
        kept.set(key, known);
        return structuredClone(known.response);
      }
      throw error;
    }
  });
  return gh;
}

/**
 * A list page GitHub's 304 could answer wrongly: GitHub's ETag is a digest of the page's body only,
 * and its 304 carries no Link header. An item added after a full page (or after any page that
 * has others) leaves that page's body, hence its ETag, as it was: a kept copy would replay "no
 * next page" (or an old `last` page) and hide the new items — a veto in a timeline or a member of
 * a team. Such pages are never kept; a page with room left changes its body when an item is added.
 * Lists wrapped in an object (`total_count` and the items) change their body with their count.
 */
function mayHideNextPage(url: string, response: CachedResponse): boolean {
  if (!Array.isArray(response.data)) return false;
  if (response.headers.link) return true;
  const perPage = Number(new URL(url).searchParams.get("per_page") ?? DEFAULT_PER_PAGE);
  return response.data.length >= perPage;
}

/** GitHub's page size when a request names none. */
const DEFAULT_PER_PAGE = 30;

function hasHeader(headers: Record<string, string | undefined> | undefined, name: string): boolean {
  return !!headers && Object.keys(headers).some((k) => k.toLowerCase() === name && headers[k] !== undefined);
}

/** Forgets every kept response (tests and benchmarks start from nothing). */
export function resetConditionalReads(): void {
  kept.clear();
}
