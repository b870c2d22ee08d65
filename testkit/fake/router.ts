import type { Actor, FakeRepo } from "./model.js";
import type { World } from "./world-type.js";

/**
 * Routes are declared with the templates of GitHub's REST route table (as Octokit ships it), so a
 * test can check that the fake serves no endpoint GitHub does not have. `{path}`, `{ref}` and
 * `{basehead}` may span several segments (branch names hold slashes), as in GitHub's API; other
 * parameters are one segment.
 */
export interface RouteRequest {
  actor: Actor;
  params: Record<string, string>;
  query: URLSearchParams;
  body: any;
  /** The repository named by `{owner}/{repo}`, for routes under /repos. */
  repo: FakeRepo;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** A list answered page by page (`per_page`, `page`, a Link header), optionally wrapped (`{ total_count, items }`). */
  list?: { items: unknown[]; wrap?: (items: unknown[], total: number) => unknown };
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  template: string;
  handle(world: World, req: RouteRequest): Reply;
}

/** An error answer (GitHub's `{ message }` body). */
export class RouteError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export const fail = (status: number, message: string): never => {
  throw new RouteError(status, message);
};

export const ok = (body?: unknown, status = 200): Reply => ({ status, body });
export const list = (items: unknown[], wrap?: (items: unknown[], total: number) => unknown): Reply => ({ status: 200, list: { items, ...(wrap ? { wrap } : {}) } });

const MULTI_SEGMENT = new Set(["{path}", "{ref}", "{basehead}"]);

interface Compiled {
  route: Route;
  pattern: RegExp;
  names: string[];
}

export class Router {
  private readonly compiled: Compiled[];

  constructor(readonly routes: readonly Route[]) {
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const source = route.template
        .split(/(\{[^}]+\})/)
        .map((part) => {
          if (!part.startsWith("{")) return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
          names.push(part.slice(1, -1));
          return MULTI_SEGMENT.has(part) ? "(.+)" : "([^/]+)";
        })
        .join("");
      return { route, pattern: new RegExp(`^${source}$`), names };
    });
  }

  match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    for (const c of this.compiled) {
      if (c.route.method !== method) continue;
      const m = c.pattern.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      c.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
      return { route: c.route, params };
    }
    return undefined;
  }
}
