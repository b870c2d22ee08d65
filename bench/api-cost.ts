import { resetJudgingFileCache } from "../src/github/snapshot.js";
import { evaluatePullRequest } from "../src/handlers/evaluate.js";
import { providerFactory } from "../src/providers/registry.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { openRequest } from "../testkit/people.js";

const APP_ID = 1;
const POLICY = `version: 1
requesters: ["@acme/engineering"]
resources:
  prod-db:
    provider: postgres
    config: { url_env: JIT_PROD_DB_URL }
    roles:
      read-only: { max_duration: 4h, grant: { roles: [analytics_read] } }
`;
const CODEOWNERS = "* @acme/security\n/grants/prod-db/ @acme/dba @acme/security\n";
const GRANT = 'requester: alice\nresource: prod-db\nrole: read-only\nduration: 2h\nreason: "Investigate INC-4211: slow checkout queries"\n';
const ref = { owner: "acme", repo: "access" };

export interface EvaluationCost {
  /** Requests of each evaluation, by route. */
  first: [string, number][];
  redelivery: [string, number][];
  approved: [string, number][];
}

/**
 * GitHub API requests per evaluation of a 2-group request with reviews from bob (counts for dba)
 * and eve (not a member): its first evaluation, the same event redelivered, and carol's approval
 * (security) completing it, which merges.
 */
export async function measureEvaluationCost(o: { readCache?: boolean } = {}): Promise<EvaluationCost> {
  resetJudgingFileCache();
  const fake = new FakeGitHub(APP_ID);
  fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": CODEOWNERS }, { writers: ["alice", "bob", "carol", "eve"] });
  for (const [team, login] of [["acme/engineering", "alice"], ["acme/dba", "bob"], ["acme/security", "carol"]] as const) fake.addMember(team, login);
  const number = (await openRequest(fake.as("alice"), ref, { branch: "request", path: "grants/prod-db/alice-1.yaml", content: GRANT }))!;
  for (const login of ["bob", "eve"]) await fake.as(login).rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
  const gh = fake.client();
  const quiet = { info() {}, warn() {}, error() {} };
  const deps = { appId: APP_ID, now: () => new Date(), providers: providerFactory({}), ...(o.readCache === undefined ? {} : { readCache: o.readCache }) };
  const evaluate = async () => {
    fake.reset();
    await evaluatePullRequest(gh, { ...ref, number }, deps, quiet);
    return byRoute(fake.requests);
  };
  const first = await evaluate();
  const redelivery = await evaluate();
  await fake.as("carol").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
  const approved = await evaluate();
  return { first, redelivery, approved };
}

export async function benchApiCost(): Promise<string[]> {
  const { first, redelivery, approved } = await measureEvaluationCost();
  const writes = (rows: [string, number][]) => total(rows.filter(([route]) => !route.startsWith("GET")));
  return [
    `first evaluation of a new request (2 groups; reviews: bob ✓ dba, eve ✗ not a member): ${total(first)} requests, ${writes(first)} writes (was 17)`,
    ...first.map(([route, n]) => `  ${String(n).padStart(2)}  ${route}`),
    `the same event redelivered (nothing changed): ${total(redelivery)} requests, ${writes(redelivery)} writes (was 14)`,
    ...redelivery.map(([route, n]) => `  ${String(n).padStart(2)}  ${route}`),
    `third review arrives (carol ✓ security): ${total(approved)} requests, including the merge`,
    ...approved.filter(([route]) => !route.startsWith("GET")).map(([route, n]) => `  ${String(n).padStart(2)}  ${route}`),
  ];
}

export function byRoute(requests: readonly string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const route = r
      .replace(/\/repos\/[^/]+\/[^/]+/, "/repos/{o}/{r}")
      .replace(/contents\/.+/, "contents/{path}")
      .replace(/memberships\/.+/, "memberships/{user}")
      .replace(/commits\/[0-9a-f]{40}/, "commits/{sha}")
      .replace(/teams\/[^/]+/, "teams/{team}")
      .replace(/\/\d+/g, "/{n}");
    counts.set(route, (counts.get(route) ?? 0) + 1);
  }
  return [...counts.entries()];
}

export const total = (rows: [string, number][]) => rows.reduce((n, [, c]) => n + c, 0);
