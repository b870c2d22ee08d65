import type nock from "nock";
import { embedState, type CommentState } from "../../src/lifecycle/codec.js";

/** The GitHub App the CLI trusts by default (slug `jit-access`), and another that copies its name. */
export const JIT_APP = { id: 1001, slug: "jit-access" };
export const OTHER_APP = { id: 666, slug: "jit-access-helper" };

const R = "/repos/acme/access";
export const headOf = (pr: number) => `${pr}`.padStart(40, "h");
/** acme/access's id on GitHub: the app keys its records by it (`repo:<id>#<number>`). */
export const REPO_ID = 4321;

/** A `jit-access` check run holding a record, as GitHub lists and serves it. */
export function recordRun(pr: number, state: Omit<CommentState, "v">, o: { id?: number; app?: { id: number; slug: string }; externalId?: string } = {}): Record<string, unknown> {
  return {
    id: o.id ?? 500 + pr,
    name: "jit-access",
    head_sha: headOf(pr),
    external_id: o.externalId ?? `repo:${REPO_ID}#${pr}`,
    status: "completed",
    conclusion: "success",
    app: o.app ?? JIT_APP,
    output: { title: "t", summary: "s", text: embedState("status", { v: 1, ...state }) },
  };
}

/** The PR read for its head commit. */
export function mockHead(api: nock.Scope, pr: number): void {
  api.get(`${R}/pulls/${pr}`).reply(200, { number: pr, head: { sha: headOf(pr) }, base: { ref: "main", repo: { id: REPO_ID } } });
}

/** The check runs named jit-access on a PR's head; `appId`: the query names the app (--app-id). */
export function mockRuns(api: nock.Scope, pr: number, runs: Record<string, unknown>[], appId?: number): void {
  api
    .get(`${R}/commits/${headOf(pr)}/check-runs`)
    .query({ check_name: "jit-access", filter: "all", per_page: 100, ...(appId !== undefined ? { app_id: appId } : {}) })
    .reply(200, { total_count: runs.length, check_runs: runs });
}

/** One run read whole. */
export function mockRun(api: nock.Scope, run: Record<string, unknown>): void {
  api.get(`${R}/check-runs/${String(run.id)}`).reply(200, run);
}

/** Everything `readRecord` reads when the trusted app's record is `state` (undefined: no run at all). */
export function mockRecord(api: nock.Scope, pr: number, state: Omit<CommentState, "v"> | undefined): void {
  mockHead(api, pr);
  if (state === undefined) return mockRuns(api, pr, []);
  const run = recordRun(pr, state);
  mockRuns(api, pr, [run]);
  mockRun(api, run);
}
