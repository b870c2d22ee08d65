import { describe, expect, it } from "@jest/globals";
import { countApprovals, screenReviews, commitsToCompare, type Requirement, type Review, type ReviewFacts } from "../src/approval/evaluate.js";

const HEAD = "h".repeat(40);
const OLD = "o".repeat(40);
const BLOB = "b".repeat(40);

const approve = (login: string, commitId = HEAD): Review => ({ login, isBot: false, state: "APPROVED", commitId });
const facts = (reviews: Review[], extra: Partial<ReviewFacts> = {}): ReviewFacts => ({
  requester: "alice",
  author: "alice",
  reviews,
  contributors: ["alice"],
  headSha: HEAD,
  headBlobSha: BLOB,
  blobAt: new Map(),
  ...extra,
});
const teams: Record<string, string[]> = { "@acme/dba": ["bob", "dana"], "@acme/security": ["carol", "dana"] };
const member = (team: string, login: string) => teams[team]?.includes(login) ?? false;
const ALL: Requirement = { groups: ["@acme/dba", "@acme/security"], minPerGroup: 1, mode: "all", breakGlass: false };

const outcome = (reviews: Review[], req = ALL, extra: Partial<ReviewFacts> = {}) => countApprovals(req, screenReviews(facts(reviews, extra)), member);

describe("which reviews count", () => {
  it("an approval on the head by a member counts; by a non-member it does not, and says why", () => {
    const o = outcome([approve("bob"), approve("eve")]);
    expect(o.groups[0]).toEqual({ group: "@acme/dba", approvedBy: ["bob"], needed: 1, satisfied: true });
    expect(o.ignored).toEqual([{ login: "eve", reason: "not a member of @acme/dba or @acme/security" }]);
  });
  it("only the latest review decides; a later comment does not withdraw an approval, a dismissal does", () => {
    const changes: Review = { login: "bob", isBot: false, state: "CHANGES_REQUESTED", commitId: HEAD };
    expect(outcome([changes, approve("bob")]).groups[0]!.approvedBy).toEqual(["bob"]);
    expect(outcome([approve("bob"), { ...approve("bob"), state: "COMMENTED" }]).groups[0]!.approvedBy).toEqual(["bob"]);
    expect(outcome([approve("bob"), { ...approve("bob"), state: "DISMISSED" }]).groups[0]!.approvedBy).toEqual([]);
  });
  it("an approval on an older commit counts only when the grant file there is the same blob", () => {
    expect(outcome([approve("bob", OLD)], ALL, { blobAt: new Map([[OLD, BLOB]]) }).groups[0]!.approvedBy).toEqual(["bob"]);
    const changed = outcome([approve("bob", OLD)], ALL, { blobAt: new Map([[OLD, "c".repeat(40)]]) });
    expect(changed.groups[0]!.approvedBy).toEqual([]);
    expect(changed.ignored).toEqual([{ login: "bob", reason: "given on an older commit whose grant file differs from the current one" }]);
    expect(outcome([approve("bob", OLD)], ALL, { blobAt: new Map([[OLD, null]]) }).groups[0]!.approvedBy).toEqual([]);
  });
  it("says which older commits need their grant blob looked up", () => {
    expect(commitsToCompare({ reviews: [approve("bob", OLD), approve("carol"), approve("dana", OLD)], headSha: HEAD })).toEqual([OLD]);
  });
  it("the requester, the PR author, any committer and bots cannot approve", () => {
    const o = outcome([approve("alice"), approve("bob"), approve("carol"), { ...approve("deploy-bot"), isBot: true }, approve("renovate[bot]")], ALL, {
      author: "bob",
      contributors: ["alice", "carol"],
    });
    expect(o.groups.map((g) => g.approvedBy)).toEqual([[], []]);
    expect(o.ignored).toEqual([
      { login: "alice", reason: "the requester cannot approve their own request" },
      { login: "bob", reason: "the pull request's author cannot approve it" },
      { login: "carol", reason: "authored or committed a commit in this pull request" },
      { login: "deploy-bot", reason: "bots cannot approve" },
      { login: "renovate[bot]", reason: "bots cannot approve" },
    ]);
  });
  it("logins compare case-insensitively", () => {
    expect(outcome([approve("ALICE")]).ignored[0]!.reason).toBe("the requester cannot approve their own request");
  });
});

describe("counting per group", () => {
  it("mode all: one of two groups is not enough; both are", () => {
    expect(outcome([approve("bob")]).complete).toBe(false);
    expect(outcome([approve("bob"), approve("carol")]).complete).toBe(true);
  });
  it("a reviewer in two groups counts for each group they belong to", () => {
    const o = outcome([approve("dana")]);
    expect(o.groups.map((g) => g.approvedBy)).toEqual([["dana"], ["dana"]]);
    expect(o.complete).toBe(true);
  });
  it("min_per_group counts distinct approvers, and more than enough is still enough", () => {
    const two = { ...ALL, minPerGroup: 2 };
    expect(outcome([approve("bob"), approve("carol")], two).complete).toBe(false);
    expect(outcome([approve("bob"), approve("dana"), approve("carol")], two).complete).toBe(true);
    const three = outcome([approve("bob"), approve("dana"), approve("carol")], { ...ALL, minPerGroup: 1 });
    expect(three.groups[0]).toMatchObject({ approvedBy: ["bob", "dana"], satisfied: true });
  });
  it("mode any: one satisfied group is enough", () => {
    expect(outcome([approve("bob")], { ...ALL, mode: "any" }).complete).toBe(true);
    expect(outcome([], { ...ALL, mode: "any" }).complete).toBe(false);
  });
  it("users are groups of one", () => {
    expect(outcome([approve("Frank")], { ...ALL, groups: ["@frank"] }).complete).toBe(true);
  });
  it("no groups is never complete (fails closed)", () => {
    expect(outcome([approve("bob")], { ...ALL, groups: [] }).complete).toBe(false);
  });
  it("changes requested by an approver rejects; by a stranger it is ignored", () => {
    const objection = (login: string): Review => ({ login, isBot: false, state: "CHANGES_REQUESTED", commitId: HEAD });
    expect(outcome([approve("bob"), approve("carol"), objection("dana")])).toMatchObject({ complete: false, rejectedBy: ["dana"] });
    expect(outcome([approve("bob"), approve("carol"), objection("eve")])).toMatchObject({ complete: true, rejectedBy: [] });
  });
});
