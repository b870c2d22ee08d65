/**
 * Who has approved a grant, and whether that is enough — a pure function of reviews,
 * commits and group memberships (docs/reference/approvals.md).
 *
 * It runs in two steps so the GitHub adapter fetches only the memberships that matter:
 * `screenReviews` decides from reviews and commits alone which reviewers could count
 * (and why the others do not); `countApprovals` then needs membership of just those.
 */

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";

export interface Review {
  login: string;
  isBot: boolean;
  state: ReviewState;
  commitId: string;
}

export interface ReviewFacts {
  requester: string;
  author: string;
  reviews: readonly Review[];
  /** Logins of the authors and committers of every commit in the PR (those GitHub could link to an account). */
  contributors: readonly string[];
  headSha: string;
  /** The grant file's blob SHA at the head. */
  headBlobSha: string;
  /** The grant file's blob SHA at another commit; null where the file did not exist; undefined where not looked up. */
  blobAt: ReadonlyMap<string, string | null>;
  /** What the blobs are of, as people read it; "grant file" by default. */
  subject?: string;
  /**
   * Instead of one file's blob: whether the pull request's whole diff at another commit equals the
   * head's (a policy change, where any file may matter: a CODEOWNERS line added next to an approved
   * policy edit). Undefined or false where not looked up or different: the approval is stale.
   */
  sameDiffAt?: ReadonlyMap<string, boolean>;
}

export interface Screened {
  /** Reviewers whose latest review approves the current content and who may approve. */
  approvers: string[];
  /** Reviewers whose latest review requests changes and who could otherwise approve. */
  objectors: string[];
  /** Reviews that do not count, each with the reason shown to people. */
  ignored: { login: string; reason: string }[];
}

/** `login` lowercased: GitHub logins are case-insensitive. */
const norm = (login: string) => login.toLowerCase();

/** Commits whose grant file differs from the head's need their blob looked up; this says which. */
export function commitsToCompare(facts: Pick<ReviewFacts, "reviews" | "headSha">): string[] {
  const latest = latestReviews(facts.reviews);
  return [...new Set([...latest.values()].filter((r) => r.state === "APPROVED" && r.commitId !== facts.headSha).map((r) => r.commitId))];
}

export function screenReviews(facts: ReviewFacts): Screened {
  const contributors = new Set(facts.contributors.map(norm));
  const out: Screened = { approvers: [], objectors: [], ignored: [] };
  for (const review of latestReviews(facts.reviews).values()) {
    const login = review.login;
    if (review.state !== "APPROVED" && review.state !== "CHANGES_REQUESTED") continue;
    const why = ineligibility(review, facts, contributors);
    if (why) {
      out.ignored.push({ login, reason: why });
      continue;
    }
    if (review.state === "CHANGES_REQUESTED") {
      out.objectors.push(login);
      continue;
    }
    if (review.commitId !== facts.headSha && !sameAsHead(facts, review.commitId)) {
      const reason = facts.sameDiffAt ? "given on an older commit whose changes differ from the current ones" : `given on an older commit whose ${facts.subject ?? "grant file"} differs from the current one`;
      out.ignored.push({ login, reason });
      continue;
    }
    out.approvers.push(login);
  }
  return out;
}

/** An approval of `commitId` approved what the head holds: the same diff (when compared so) or the same blob. */
function sameAsHead(facts: ReviewFacts, commitId: string): boolean {
  if (facts.sameDiffAt) return facts.sameDiffAt.get(commitId) === true;
  return facts.blobAt.get(commitId) === facts.headBlobSha;
}

function ineligibility(review: Review, facts: ReviewFacts, contributors: Set<string>): string | undefined {
  const login = norm(review.login);
  if (review.isBot || login.endsWith("[bot]")) return "bots cannot approve";
  if (login === norm(facts.requester)) return "the requester cannot approve their own request";
  if (login === norm(facts.author)) return "the pull request's author cannot approve it";
  if (contributors.has(login)) return "authored or committed a commit in this pull request";
  return undefined;
}

/**
 * The review that decides a reviewer's position: their latest APPROVED, CHANGES_REQUESTED or
 * DISMISSED review. As on GitHub, a later COMMENTED review does not withdraw an approval.
 */
function latestReviews(reviews: readonly Review[]): Map<string, Review> {
  const latest = new Map<string, Review>();
  for (const review of reviews) {
    if (review.state === "COMMENTED" || review.state === "PENDING") continue;
    latest.set(norm(review.login), review);
  }
  return latest;
}

export interface Requirement {
  /** Approver groups: `@org/team` or `@login`, lowercased. */
  groups: string[];
  minPerGroup: number;
  mode: "all" | "any";
  /** An emergency grant judged by break_glass.approvers. */
  breakGlass: boolean;
}

export interface GroupProgress {
  group: string;
  approvedBy: string[];
  needed: number;
  satisfied: boolean;
}

export interface ApprovalOutcome {
  complete: boolean;
  groups: GroupProgress[];
  /** Approvers who requested changes: the request is rejected. */
  rejectedBy: string[];
  /**
   * People who objected and whose membership in the approver groups is still unknown (the lookup
   * cap was reached): they may be approvers, so the request is not complete while this is non-empty.
   */
  unresolvedVetoes: string[];
  ignored: { login: string; reason: string }[];
  /** Set when the requester's membership in an auto_approve group stands in for approvals. */
  autoApprovedBy?: string;
}

/** Is `login` in the group? Teams need a lookup (undefined when not looked up: counts as no); users are themselves. */
export type MembershipLookup = (team: string, login: string) => boolean | undefined;

export function isInGroup(group: string, login: string, teamMember: MembershipLookup): boolean {
  return membershipIn(group, login, teamMember) === true;
}

/** Like isInGroup, but says when a team membership is not known: undefined. */
function membershipIn(group: string, login: string, teamMember: MembershipLookup): boolean | undefined {
  return group.includes("/") ? teamMember(group, norm(login)) : group === `@${norm(login)}`;
}

/**
 * Who of `vetoers` is in an approver group (`by`: their veto stands), and whose membership is not
 * known yet (`unresolved`). Called before approvals are counted, so the adapter that looks
 * memberships up on demand asks about vetoes first: a cap on lookups may leave an approval
 * uncounted (fails closed) but never a veto unasked behind approvals.
 */
export function settleVetoes(groups: readonly string[], vetoers: readonly string[], teamMember: MembershipLookup): { by: string[]; unresolved: string[] } {
  const by: string[] = [];
  const unresolved: string[] = [];
  for (const login of vetoers) {
    let unknown = false;
    let member = false;
    for (const group of groups) {
      const m = membershipIn(group, login, teamMember);
      if (m === true) {
        member = true;
        break;
      }
      if (m === undefined) unknown = true;
    }
    if (member) by.push(login);
    else if (unknown) unresolved.push(login);
  }
  return { by, unresolved };
}

export function countApprovals(requirement: Requirement, screened: Screened, teamMember: MembershipLookup): ApprovalOutcome {
  // Vetoes first (see settleVetoes): the order of these calls is the order of the lookups.
  const vetoes = settleVetoes(requirement.groups, screened.objectors, teamMember);
  const ignored = [...screened.ignored];
  const groups = requirement.groups.map((group) => {
    const approvedBy = screened.approvers.filter((login) => isInGroup(group, login, teamMember));
    return { group, approvedBy, needed: requirement.minPerGroup, satisfied: approvedBy.length >= requirement.minPerGroup };
  });
  for (const login of screened.approvers) {
    if (!requirement.groups.some((g) => isInGroup(g, login, teamMember))) {
      ignored.push({ login, reason: `not a member of ${requirement.groups.join(" or ") || "any approver group"}` });
    }
  }
  const rejectedBy = vetoes.by;
  const unresolvedVetoes = vetoes.unresolved;
  const complete =
    groups.length > 0 &&
    rejectedBy.length === 0 &&
    unresolvedVetoes.length === 0 &&
    (requirement.mode === "all" ? groups.every((g) => g.satisfied) : groups.some((g) => g.satisfied));
  return { complete, groups, rejectedBy, unresolvedVetoes, ignored };
}
