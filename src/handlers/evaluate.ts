import { decide } from "../lifecycle/decide.js";
import { membershipKey } from "../lifecycle/snapshot.js";
import type { GitHub, RepoRef } from "../github/client.js";
import { execute } from "../github/execute.js";
import { loadRequestSnapshot } from "../github/snapshot.js";
import type { ProviderFactory } from "../providers/registry.js";

export interface AppDeps {
  appId: number;
  /** The clock, injectable so tests control time. */
  now: () => Date;
  providers: ProviderFactory;
}

export interface Log {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** snapshot → decide → act, for one pull request. Every event that may change a request comes here. */
export async function evaluatePullRequest(gh: GitHub, ref: RepoRef & { number: number }, deps: AppDeps, log: Log): Promise<void> {
  const now = deps.now();
  const snapshot = await loadRequestSnapshot(gh, ref, { appId: deps.appId, now });
  if (!snapshot) return; // no policy on the default branch: not an access repository
  const decision = decide(snapshot, now, (team, login) => snapshot.memberships.get(membershipKey(team, login)));
  await execute(gh, snapshot, decision, { appId: deps.appId, now: deps.now, providers: deps.providers, log });
}
