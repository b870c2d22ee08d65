import type { Review } from "../approval/evaluate.js";
import type { Codeowners } from "../policy/codeowners.js";
import type { PolicyResult } from "../policy/load.js";
import type { Directory, PlannedGrant } from "../plan/types.js";
import type { ChangedFile, PullRequestKind } from "./classify.js";
import type { CommentCommand } from "./commands.js";
import type { GrantRecord } from "./record.js";

/**
 * Everything one decision about a pull request needs, loaded fresh from GitHub on every
 * event (never taken from the webhook body or from memory). Plain data: the decision
 * functions are pure over it, and tests build it by hand.
 */
export interface PullRequestFacts {
  number: number;
  url: string;
  author: string;
  /** The author's GitHub user id: people are compared by it where records have it. */
  authorId: number;
  state: "open" | "closed";
  merged: boolean;
  draft: boolean;
  headSha: string;
  baseRef: string;
  /** The head branch lives in another repository. */
  fromFork: boolean;
  createdAt: string;
  labels: string[];
  /** When it was merged: with the grant file, this fixes the window (never the time it was applied). */
  mergedAt?: string;
  /** It was closed and reopened at some point (timeline): a closed request is final. */
  reopened: boolean;
  /** The request its body says it extends ("Extends #N"): only which original to look at again. */
  extends?: number;
}

export type { CommentCommand } from "./commands.js";

export interface RequestSnapshot {
  /** The repository's name now: what API calls use. */
  owner: string;
  repo: string;
  /** GitHub's id of the repository (`pr.base.repo.id`): what records are keyed by, stable through renames and transfers. */
  repoId: number;
  defaultBranch: string;
  /** The default branch's commit its policy and CODEOWNERS were read at, when the app read them there (cached by commit). */
  judgedAt?: string;
  pr: PullRequestFacts;
  kind: PullRequestKind;
  /** The PR's files as GitHub listed them at `pr.headSha` (what `kind` was classified from). */
  files?: ChangedFile[];
  /** The policy on the default branch: what judges every request. */
  policy: PolicyResult;
  /** For a policy-change PR: the policy as the PR would make it. */
  proposedPolicy?: PolicyResult;
  /** For a request: the grant file's content at the head, read by blob SHA. */
  grantContent?: Uint8Array;
  /** CODEOWNERS from the PR's base branch; null where the repository has none. */
  codeowners?: Codeowners | null;
  /** For a policy change that touches CODEOWNERS: CODEOWNERS as the head would have it (null: none there). */
  proposedCodeowners?: Codeowners | null;
  /** For a policy change's access plan: members of the teams its changes name, where the token could read them. */
  directory?: Directory;
  /** For a policy change's access plan: the grants holding access now (undefined: not read). */
  liveGrants?: PlannedGrant[];
  reviews: Review[];
  /** Logins of authors and committers of the PR's commits. */
  contributors: string[];
  /** The grant file's blob SHA at commits that approvals were given on. */
  blobAt: Map<string, string | null>;
  /** For a policy change: whether the PR's whole diff at a commit approvals were given on equals the head's. */
  sameDiffAt?: Map<string, boolean>;
  /** Team memberships looked up for this decision: `@org/team\0login` → active member. */
  memberships: Map<string, boolean>;
  /** Change requests dismissed by someone other than their author (timeline `review_dismissed`). */
  dismissedChangeRequests?: { reviewer: string; dismissedBy: string }[];
  /** `/jit` commands commented on the PR, oldest first. */
  commands: CommentCommand[];
  /**
   * The timeline was not read (a grant due to end is revoked first): the status comment is
   * unknown until the display is written, and commands and mentions are not known either.
   */
  displayUnread?: boolean;
  /** How far this evaluation read the comments of a long timeline (github/snapshot.ts); kept once it completes. */
  commentCursor?: { key: string; at: string };
  /** This app's status comment, if it wrote one: a display for people, never read for state. */
  comment?: { id: number; body: string };
  /** This app's `jit-access` check run on the head commit: only this app can change it. */
  check?: CheckRun;
  /**
   * Another PR's record is on this head commit: the same commit opened as a second request (to
   * share, and so overwrite, a live grant's record). That request fails closed.
   */
  headClaimedBy?: number;
  /** The grant's record, from that check run (see github/record.ts): what the app believes. */
  record?: GrantRecord;
  /**
   * Notifications already sent for this PR, as its status comment shows them, when the head has no
   * record yet (a push made a new head). Only "requested", only to avoid announcing a request
   * twice: what a person writes there can at worst silence that one repeat, never a break-glass.
   */
  notifiedBefore?: string[];
  /**
   * For an open request about to be judged: whether the policy and CODEOWNERS on the default
   * branch came through a pull request this app approved (github/provenance.ts). Undefined: not checked.
   */
  policyProvenance?: PolicyProvenance;
  /** For a live grant: whether its file is still on the default branch (a merged deletion ends it). */
  grantOnDefaultBranch?: boolean;
  /** PRs of this repository that mention this one (timeline `cross-referenced`), oldest first. */
  mentionedBy?: Mention[];
  /** For a live grant: the requests verified now to extend it, from their records (see lifecycle/extension.ts); undefined when not checked. */
  extensions?: number[];
}

/** Where the files that judge requests came from: trusted, or which one is not and why. */
export type PolicyProvenance =
  | { trusted: true }
  | { trusted: false; path: string; blobSha: string; commit?: string; why: string };

/** A PR of the same repository that mentions this one (timeline `cross-referenced`), and its author. */
export interface Mention {
  number: number;
  author: string;
}

/**
 * A check run of this app, as read: the record lives in `text` (see lifecycle/codec.ts). Only the
 * App that created a check run can change it, which is why the record lives there.
 */
export interface CheckRun {
  id: number;
  status: string;
  conclusion: string | null;
  title: string;
  summary: string;
  /** The record's text as last written by the app ("" before the first). */
  text: string;
}

/** Which request: a pull request of one repository. */
export interface RequestKey {
  owner: string;
  repo: string;
  number: number;
}

export const membershipKey = (team: string, login: string) => `${team.toLowerCase()}\u0000${login.toLowerCase()}`;

/**
 * A grant's id at its target (the providers' idempotency key, the webhook event's `id`): by the
 * repository's id, which a rename or transfer does not change, and the request's number. Grants
 * applied before ids were kept in the record were named `owner/repo#number` (see GrantRecord.grant_id).
 */
export function grantIdOf(s: Pick<RequestSnapshot, "repoId" | "owner" | "repo" | "pr">): string {
  return s.repoId ? `repo:${s.repoId}#${s.pr.number}` : `${s.owner}/${s.repo}#${s.pr.number}`;
}
