import { conditionalReads, resetConditionalReads } from "../src/github/conditional.js";
import { resetProvenanceCache } from "../src/github/provenance.js";
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
  opened: [string, number][];
  first: [string, number][];
  redelivery: [string, number][];
  approved: [string, number][];
  /** Of each, the requests GitHub answered 304 (conditional reads of what had not changed): not counted against the rate limit. */
  notModified: { opened: number; first: number; redelivery: number; approved: number };
}

const quiet = { info() {}, warn() {}, error() {} };

/**
 * A process's view of one access repository: caches empty (as after a start), and — `warm` — one
 * request of the repository evaluated already (the policy and CODEOWNERS at this commit, and the
 * reviewers' teams, read then).
 */
async function benchWorld(o: { readCache?: boolean; warm?: boolean }) {
  resetJudgingFileCache();
  resetConditionalReads();
  resetProvenanceCache();
  const fake = new FakeGitHub(APP_ID);
  fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": CODEOWNERS }, { writers: ["alice", "bob", "carol", "eve"] });
  for (const [team, login] of [["acme/engineering", "alice"], ["acme/dba", "bob"], ["acme/security", "carol"]] as const) fake.addMember(team, login);
  // As the app's clients are (cluster/instrument.ts): reads are conditional.
  const gh = o.readCache === false ? fake.client() : conditionalReads(fake.client(), "bench");
  const deps = { appId: APP_ID, now: () => new Date(), providers: providerFactory({}), ...(o.readCache === undefined ? {} : { readCache: o.readCache }) };
  if (o.warm) {
    const earlier = (await openRequest(fake.as("alice"), ref, { branch: "earlier", path: "grants/prod-db/alice-0.yaml", content: GRANT }))!;
    for (const login of ["bob", "eve"]) await fake.as(login).rest.pulls.createReview({ ...ref, pull_number: earlier, event: "APPROVE" });
    await evaluatePullRequest(gh, { ...ref, number: earlier }, deps, quiet);
  }
  return { fake, gh, deps };
}

/**
 * GitHub API requests per evaluation of a 2-group request with reviews from bob (counts for dba)
 * and eve (not a member): its first evaluation, the same event redelivered, and carol's approval
 * (security) completing it, which merges.
 */
export async function measureEvaluationCost(o: { readCache?: boolean; warm?: boolean } = {}): Promise<EvaluationCost> {
  // A request as it is when it is opened (nobody has reviewed it yet), in a process of its own.
  const fresh = await benchWorld(o);
  const freshNumber = (await openRequest(fresh.fake.as("alice"), ref, { branch: "fresh", path: "grants/prod-db/alice-2.yaml", content: GRANT }))!;
  fresh.fake.reset();
  await evaluatePullRequest(fresh.gh, { ...ref, number: freshNumber }, fresh.deps, quiet);
  const opened = { routes: byRoute(fresh.fake.requests), notModified: fresh.fake.notModified.length };

  const { fake, gh, deps } = await benchWorld(o);
  const number = (await openRequest(fake.as("alice"), ref, { branch: "request", path: "grants/prod-db/alice-1.yaml", content: GRANT }))!;
  for (const login of ["bob", "eve"]) await fake.as(login).rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
  const evaluate = async () => {
    fake.reset();
    await evaluatePullRequest(gh, { ...ref, number }, deps, quiet);
    return { routes: byRoute(fake.requests), notModified: fake.notModified.length };
  };
  const first = await evaluate();
  const redelivery = await evaluate();
  await fake.as("carol").rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
  const approved = await evaluate();
  return {
    opened: opened.routes,
    first: first.routes,
    redelivery: redelivery.routes,
    approved: approved.routes,
    notModified: { opened: opened.notModified, first: first.notModified, redelivery: redelivery.notModified, approved: approved.notModified },
  };
}

export async function benchApiCost(): Promise<string[]> {
  const lines: string[] = [];
  for (const warm of [false, true]) {
    const { opened, first, redelivery, approved, notModified } = await measureEvaluationCost({ warm });
    const writes = (rows: [string, number][]) => total(rows.filter(([route]) => !route.startsWith("GET")));
    const counted = (rows: [string, number][], free: number) => `${total(rows)} requests (${total(rows) - free} counted against the rate limit, ${free} answered 304), ${writes(rows)} writes`;
    lines.push(
      warm ? "In a running app (another request of the repository evaluated before):" : "In a process that has read nothing yet:",
      `first evaluation of a request just opened (nobody has reviewed it yet): ${counted(opened, notModified.opened)}`,
      ...opened.map(([route, n]) => `  ${String(n).padStart(2)}  ${route}`),
      `first evaluation of a new request (2 groups; reviews: bob ✓ dba, eve ✗ not a member): ${counted(first, notModified.first)}`,
      ...first.map(([route, n]) => `  ${String(n).padStart(2)}  ${route}`),
      `the same event redelivered (nothing changed): ${counted(redelivery, notModified.redelivery)}`,
      ...redelivery.map(([route, n]) => `  ${String(n).padStart(2)}  ${route}`),
      `third review arrives (carol ✓ security): ${counted(approved, notModified.approved)}, including the merge and the merged request's evaluation in the same turn`,
      ...approved.filter(([route]) => !route.startsWith("GET")).map(([route, n]) => `  ${String(n).padStart(2)}  ${route}`),
    );
  }
  return lines;
}

export function byRoute(requests: readonly string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const route = r
      .replace(/\/repos\/[^/]+\/[^/]+/, "/repos/{o}/{r}")
      .replace(/contents\/.+/, "contents/{path}")
      .replace(/compare\/.+/, "compare/{basehead}")
      .replace(/memberships\/.+/, "memberships/{user}")
      .replace(/commits\/[0-9a-f]{40}/, "commits/{sha}")
      .replace(/teams\/[^/]+/, "teams/{team}")
      .replace(/\/\d+/g, "/{n}");
    counts.set(route, (counts.get(route) ?? 0) + 1);
  }
  return [...counts.entries()];
}

export const total = (rows: [string, number][]) => rows.reduce((n, [, c]) => n + c, 0);
