import { Octokit } from "@octokit/rest";

/**
 * GitHub's REST route table as Octokit ships it (from @octokit/plugin-rest-endpoint-methods,
 * generated from GitHub's OpenAPI description). Mocks are checked against it so that no test
 * can mock an endpoint GitHub does not have.
 */
export const ROUTES: { method: string; template: string; pattern: RegExp }[] = (() => {
  const octokit = new Octokit();
  const out: { method: string; template: string; pattern: RegExp }[] = [];
  const rest = octokit.rest as unknown as Record<string, Record<string, { endpoint: { DEFAULTS: { method: string; url: string } } }>>;
  for (const scope of Object.keys(rest)) {
    for (const name of Object.keys(rest[scope]!)) {
      const { method, url } = rest[scope]![name]!.endpoint.DEFAULTS;
      out.push({ method, template: url, pattern: toPattern(url) });
    }
  }
  return out;
})();

/** `{path}` and `{ref}` may hold slashes (file paths, `heads/branch`); other parameters are one segment. */
function toPattern(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      if (!part.startsWith("{")) return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
      return part === "{path}" || part === "{ref}" ? ".+" : "[^/]+";
    })
    .join("");
  return new RegExp(`^${source}$`);
}

/** The route template a request matches, or undefined when GitHub has no such endpoint. */
export function matchRoute(method: string, path: string): string | undefined {
  const bare = path.split("?")[0]!;
  const upper = method.toUpperCase();
  return ROUTES.find((r) => r.method === upper && r.pattern.test(bare))?.template;
}
