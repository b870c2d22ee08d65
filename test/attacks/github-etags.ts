import { createHash } from "node:crypto";
import { Arena } from "./harness.js";

type Fetch = Arena["fake"]["fetch"];
type Init = Parameters<Fetch>[1];

/**
 * GitHub's ETags on a list page, as GitHub computes them: a digest of the page's body only. The
 * Link header is not part of it, so a page whose items did not change is answered 304 even when a
 * new page now follows it, and the 304 carries no Link header (observed and worked around by
 * app-sre/github-mirror, PRs #57, #113 and #290: "the number of pending invitations is the same as
 * the number of items per page ... invite another person ... the response is a 304 and the request
 * does not include any pagination headers"). The in-memory GitHub hashes the Link header into its
 * ETags, which hides what follows from that.
 *
 * This wraps the in-memory GitHub's fetch: it always asks it for the full answer (its own
 * conditional handling is bypassed), then answers as GitHub does.
 */
export function bodyOnlyEtags(fetch: Fetch): Fetch {
  return async (input, init) => {
    const method = (init?.method ?? "GET").toUpperCase();
    const ifNoneMatch = header(init, "if-none-match");
    const response = await fetch(input, withoutHeader(init, "if-none-match"));
    if (method !== "GET" || response.status !== 200) return response;
    const text = await response.text();
    const etag = `W/"${createHash("sha1").update(text).digest("hex")}"`;
    const url = response.url;
    const headers: Record<string, string> = { etag };
    response.headers.forEach((value, key) => (headers[key] = headers[key] ?? value));
    const reply =
      ifNoneMatch === etag
        ? new Response(null, { status: 304, headers: { etag } })
        : new Response(text, { status: 200, headers });
    Object.defineProperty(reply, "url", { value: url });
    return reply;
  };
}

/** An arena (not booted yet) whose GitHub answers conditional reads as GitHub does; then booted. */
export async function arenaWithGitHubEtags(o: { policy?: string; codeowners?: string } = {}, before?: (arena: Arena) => void): Promise<Arena> {
  const arena = new Arena(o);
  (arena.fake as { fetch: Fetch }).fetch = bodyOnlyEtags(arena.fake.fetch);
  before?.(arena);
  await arena.boot();
  return arena;
}

function header(init: Init, name: string): string | undefined {
  const headers = init?.headers;
  if (!headers) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key ? headers[key] : undefined;
}

function withoutHeader(init: Init, name: string): Init {
  const headers = init?.headers;
  if (!headers) return init;
  if (headers instanceof Headers) {
    const copy = new Headers(headers);
    copy.delete(name);
    return { ...init, headers: copy };
  }
  return { ...init, headers: Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== name)) };
}
