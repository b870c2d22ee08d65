import type { FakeRepo, Installation } from "./model.js";
import type { AppIdentity } from "./shapes.js";

// Its own module, not world.ts: the router's Route type names World, and world.ts's helpers answer
// errors with the router's fail(); in one file with the helpers the two modules imported each other.

/**
 * What route handlers share: the state, the clock, ids, and the webhooks GitHub sends when
 * something changes. Implemented by FakeGitHub.
 */
export interface World {
  readonly app: AppIdentity;
  readonly installations: Map<number, Installation>;
  /** `org/slug` (lower case) → login (lower case) → membership state. */
  readonly teams: Map<string, Map<string, "active" | "pending">>;
  /**
   * Accounts renamed since they were first seen: new login (lower case) → the account id they keep.
   * Old logins in `gone` no longer exist: GitHub answers 404 for them.
   */
  readonly renamedUsers: Map<string, number>;
  readonly goneLogins: Set<string>;
  /** GitHub's `now`, in its timestamp format (whole seconds). */
  now(): string;
  nextId(): number;
  repo(owner: string, name: string): FakeRepo | undefined;
  allRepos(): FakeRepo[];
  mintToken(appId: number, installationId: number): string;
  /** Queues the webhook GitHub would send the app for this change. */
  emit(repo: FakeRepo, name: string, action: string, fields: Record<string, unknown>, sender: string): void;
}
