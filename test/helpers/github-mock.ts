import nock from "nock";
import { matchRoute } from "./routes.js";

export const API = "https://api.github.com";

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

/**
 * A nock scope for GitHub's API that refuses, at definition time, any route GitHub's REST API
 * does not have. Every test mocks GitHub through this (a test checks that nothing calls nock
 * directly for the API), so the whole suite only ever mocks real endpoints.
 */
export function githubApi(base = API): nock.Scope {
  const scope = nock(base);
  for (const method of METHODS) {
    const original = scope[method].bind(scope) as (uri: string, ...rest: unknown[]) => nock.Interceptor;
    (scope as unknown as Record<string, unknown>)[method] = (uri: string, ...rest: unknown[]) => {
      if (typeof uri !== "string") throw new Error(`mock GitHub routes with a literal path, not ${String(uri)}`);
      const path = base === API ? uri : uri.replace(/^\/api\/v3/, "");
      if (!matchRoute(method, path)) throw new Error(`${method.toUpperCase()} ${uri} is not a route of GitHub's REST API`);
      return original(uri, ...rest);
    };
  }
  return scope;
}
