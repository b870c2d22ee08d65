import { evaluatePullRequest } from "../handlers/evaluate.js";
import { providerFactory } from "../providers/registry.js";
import { FakeGitHub, type FakePull } from "./fake-github.js";

const APP_ID = 1;
const POLICY = `version: 1
requesters: ["@acme/engineering"]
resources:
  prod-db:
    provider: postgres
    config: { url_env: PROD_DB_URL }
    roles:
      read-only: { max_duration: 4h, grant: { roles: [analytics_read] } }
`;
const CODEOWNERS = "* @acme/security\n/grants/prod-db/ @acme/dba @acme/security\n";
const GRANT = 'requester: alice\nresource: prod-db\nrole: read-only\nduration: 2h\nreason: "Investigate INC-4211: slow checkout queries"\n';

/** GitHub API requests per evaluation of a 2-group request with 3 reviews (two count, one does not). */
export async function benchApiCost(): Promise<string[]> {
  const fake = new FakeGitHub(APP_ID);
  const head = "a".repeat(40);
  const pull: FakePull = {
    number: 7, author: "alice", headSha: head, createdAt: new Date().toISOString(), state: "open", merged: false, labels: [],
    files: [{ filename: "grants/prod-db/alice-1.yaml", status: "added", content: GRANT }],
    reviews: [
      { login: "bob", state: "APPROVED", commitId: head },
      { login: "carol", state: "APPROVED", commitId: head },
      { login: "eve", state: "APPROVED", commitId: head },
    ],
    commits: [{ author: "alice", committer: "alice" }],
    comments: [],
  };
  fake.repos.set("acme/access", {
    owner: "acme", repo: "access", checkRuns: [], pulls: new Map([[7, pull]]),
    files: new Map([["main", new Map([[".github/jit-access.yml", POLICY], [".github/CODEOWNERS", CODEOWNERS]])], [head, new Map([["grants/prod-db/alice-1.yaml", GRANT]])]]),
  });
  for (const m of ["@acme/engineering:alice", "@acme/dba:bob", "@acme/security:carol"]) fake.members.add(m);
  const gh = fake.client();
  const quiet = { info() {}, warn() {}, error() {} };
  const ref = { owner: "acme", repo: "access", number: 7 };
  const deps = { appId: APP_ID, now: () => new Date(), providers: providerFactory({}) };

  // With merge: auto this first evaluation would merge; count a pending one first (eve's
  // approval does not count, and carol has not approved yet), then the approved one.
  pull.reviews = pull.reviews.filter((r) => r.login !== "carol");
  await evaluatePullRequest(gh, ref, deps, quiet);
  const first = byRoute(fake.requests);
  fake.reset();
  await evaluatePullRequest(gh, ref, deps, quiet);
  const again = fake.requests.length;
  fake.reset();
  pull.reviews.push({ login: "carol", state: "APPROVED", commitId: head });
  await evaluatePullRequest(gh, ref, deps, quiet);
  const approved = byRoute(fake.requests);

  return [
    `first evaluation of a new request (2 groups; reviews: bob ✓ dba, eve ✗ not a member): ${total(first)} requests`,
    ...first.map(([route, n]) => `  ${String(n).padStart(2)}  ${route}`),
    `the same event redelivered (nothing changed): ${again} requests, no writes`,
    `third review arrives (carol ✓ security): ${total(approved)} requests, including the merge`,
    ...approved.filter(([route]) => !route.startsWith("GET")).map(([route, n]) => `  ${String(n).padStart(2)}  ${route}`),
  ];
}

function byRoute(requests: string[]): [string, number][] {
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

const total = (rows: [string, number][]) => rows.reduce((n, [, c]) => n + c, 0);
