import type { YamlPath } from "../yaml/safe-parse.js";

/**
 * An access plan: what a policy or CODEOWNERS change does to who can get what, as plain data.
 * Computed by plan() (pure), drawn by present/plan.ts for the check and the CLI.
 */

/** Widening gives someone more access, or the same access more easily; narrowing the reverse; neutral neither (or it cannot be told). */
export type Effect = "widening" | "narrowing" | "neutral";

export interface PlanChange {
  effect: Effect;
  /** Absent: the whole policy (every role). */
  resource?: string;
  /** Absent: the whole resource (or the whole policy). */
  role?: string;
  /** The setting, as the policy names it (`max_duration`, `approvals.mode`, …) or `approvers` (CODEOWNERS), `role`, `resource`. */
  field: string;
  /** The value before and after, as text (`—`: not set, no such role). */
  before: string;
  after: string;
  /** One plain-text sentence saying what it means (escaped where it is drawn). */
  text: string;
  /** Where the new value stands in the new policy file; absent when it is not there (removed, or from CODEOWNERS). */
  where?: YamlPath;
  /** From the team directory, when known: the people this entry gives or takes (not already covered on the other side). */
  people?: string[];
}

/** A grant that holds access now, as the plan needs it (from its record). */
export interface PlannedGrant {
  number: number;
  resource: string;
  role: string;
  requester: string;
  durationMs: number;
  emergency?: boolean;
}

export type LiveGrantProblem = "resource-removed" | "role-removed" | "exceeds-max-duration" | "requester-not-allowed";

/** Live grants the new policy would not allow: they keep their window (a policy change never revokes). */
export interface LiveGrantNote {
  resource: string;
  role: string;
  problem: LiveGrantProblem;
  /** Their request PRs. */
  numbers: number[];
  text: string;
}

export interface AccessPlan {
  /** Widening first, then narrowing, then neutral. */
  changes: PlanChange[];
  liveGrants: LiveGrantNote[];
  /** Whether live grants were looked at (the CLI cannot; the app does when the plan narrows something). */
  liveGrantsChecked: boolean;
  /** `resource/role` of the roles some change widens, narrows (a policy-wide change counts every role). */
  widened: string[];
  narrowed: string[];
}

/** Teams and their members (`@org/team` in lower case → logins), when the token could read them. */
export type Directory = ReadonlyMap<string, readonly string[]>;
