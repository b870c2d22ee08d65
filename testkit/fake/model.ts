import type { Git } from "./git.js";

/** Who sent a request, from its Authorization header. */
export type Actor =
  | { kind: "app"; appId: number; installationId: number }
  /** The app itself (a JWT): only the /app routes. */
  | { kind: "app-jwt"; appId: number }
  | { kind: "person"; login: string }
  | { kind: "anonymous" };

export interface FakeComment {
  id: number;
  body: string;
  login: string;
  /** Set when a GitHub App wrote it; GitHub keeps it when a person edits the comment later. */
  appId?: number;
  createdAt: string;
  updatedAt: string;
}

export interface FakeReview {
  id: number;
  login: string;
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED";
  commitId: string;
  submittedAt: string;
}

/** Timeline events other than comments: nobody can edit or delete them. */
export interface FakeEvent {
  id: number;
  event: "closed" | "reopened" | "merged" | "labeled" | "unlabeled" | "reviewed" | "review_dismissed" | "cross-referenced";
  actor: string;
  createdAt: string;
  label?: string;
  /** For `cross-referenced`: the PR of the same repository whose body mentions this one. */
  source?: number;
  /** For `reviewed` and `review_dismissed`: the review (the timeline shows its current state). */
  reviewId?: number;
  /** For `review_dismissed`: the state the review had before it was dismissed. */
  dismissedState?: string;
}

export interface FakePull {
  number: number;
  title: string;
  body: string;
  author: string;
  headRef: string;
  baseRef: string;
  /** The head commit: follows the branch while open, stays put once closed. */
  headSha: string;
  state: "open" | "closed";
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  /** Who merged it (GitHub's `merged_by`). */
  mergedBy?: string;
  mergeCommitSha: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  labels: string[];
  reviews: FakeReview[];
  comments: FakeComment[];
  events: FakeEvent[];
}

export interface FakeCheckRun {
  id: number;
  name: string;
  headSha: string;
  appId: number;
  /** The creating app's own reference (GitHub stores it as given): which PR a record belongs to. */
  externalId: string | null;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
  output: { title: string; summary: string; text: string };
  /** Annotations, as GitHub keeps them: each request's are added to those the run has. */
  annotations?: FakeAnnotation[];
  /** Every text this run held, oldest first, with when it was written (for test oracles). */
  history: { at: string; text: string }[];
}

export interface FakeAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: "notice" | "warning" | "failure";
  message: string;
}

/** A protected branch's rules that a merge into it must meet (GitHub refuses it with 405 otherwise). */
export interface BranchProtection {
  /** Check runs (by name, any app) that must have succeeded on the PR's head. */
  requiredChecks?: string[];
  /** Approving reviews required (each reviewer's latest review counts). */
  requiredApprovals?: number;
  /**
   * Logins that merge without the required reviews: a ruleset's bypass actors (the App as an
   * integration is `<slug>[bot]` here), or classic protection's "allow specified actors to bypass
   * required pull requests". Checks are still required of them.
   */
  bypassReviews?: string[];
  /**
   * Classic protection's "restrict who can push to matching branches" (a ruleset's "restrict
   * updates" with its bypass list): when set, only these logins may merge into the branch.
   */
  restrictPushesTo?: string[];
}

export interface FakeRepo {
  /** GitHub's id: kept when the repository is renamed or transferred. */
  id: number;
  owner: string;
  name: string;
  defaultBranch: string;
  archived: boolean;
  git: Git;
  pulls: Map<number, FakePull>;
  checkRuns: FakeCheckRun[];
  /** Logins with write access (people the app's actions may come from). Everyone else: 404 on writes. */
  writers: Set<string>;
  /** Branch → its protection rules. */
  protection: Map<string, BranchProtection>;
}

export interface Installation {
  id: number;
  account: { login: string; type: "Organization" | "User" };
  repos: Set<string>;
}

/** One of the app's requests, as a test listening between them sees it (`FakeGitHub.onRequest`). */
export interface AppRequest {
  method: string;
  /** As sent (URL-encoded), as in `FakeGitHub.requests`. */
  path: string;
  body: any;
}

/** A webhook GitHub would send: what a test delivers, redelivers, reorders or loses. */
export interface Delivery {
  id: string;
  name: string;
  action?: string;
  payload: Record<string, unknown>;
}

export const fullName = (repo: FakeRepo) => `${repo.owner}/${repo.name}`;

/** GitHub's timestamps: whole seconds, UTC. */
export const timestamp = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");

export const BOT_SUFFIX = "[bot]";
