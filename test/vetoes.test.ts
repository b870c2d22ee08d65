import { beforeEach, describe, expect, it } from "@jest/globals";
import type { Probot } from "probot";
import { countApprovals, screenReviews, type MembershipLookup, type Requirement, type Review } from "../src/approval/evaluate.js";
import { MAX_MEMBERSHIP_LOOKUPS } from "../src/github/snapshot.js";
import { judgeRequest } from "../src/lifecycle/judge.js";
import { progressSummary } from "../src/present/text.js";
import type { RequestSnapshot } from "../src/lifecycle/snapshot.js";
import { loadPolicy } from "../src/policy/load.js";
import { parseCodeowners } from "../src/policy/codeowners.js";
import { deliver, mockInstallationToken, startApp } from "./helpers/app.js";
import { blobSha, CODEOWNERS, grantYaml, HEAD, OPEN_POLICY, visible } from "./helpers/fixtures.js";
import { githubApi } from "./helpers/github-mock.js";
import { reviewEvent } from "./helpers/payloads.js";
import { mockApprovalReads, mockReads, prFields, R, type Scenario } from "./helpers/scenario.js";
import { guardNetwork } from "./helpers/setup-nock.js";

/**
 * A veto (a CHANGES_REQUESTED review or `/jit reject` by an approver) is never dropped: its
 * memberships are looked up before any approval's, and one that is still unknown when the lookup
 * cap is reached keeps the request from being approved.
 */
guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
const PATH = "grants/prod-db/alice-2026-11-29.yaml";
const CONTENT = grantYaml();
const ALL: Requirement = { groups: ["@acme/dba", "@acme/security"], minPerGroup: 1, mode: "all", breakGlass: false };
const review = (login: string, state: "APPROVED" | "CHANGES_REQUESTED"): Review => ({ login, isBot: false, state, commitId: HEAD });
const screened = (reviews: Review[]) =>
  screenReviews({ requester: "alice", author: "alice", reviews, contributors: ["alice"], headSha: HEAD, headBlobSha: "b".repeat(40), blobAt: new Map() });

/** A lookup that knows some memberships (`@team:login` → boolean) and records every question, in order. */
function knowing(known: Record<string, boolean>): MembershipLookup & { asked: string[] } {
  const asked: string[] = [];
  const lookup = (team: string, login: string) => {
    asked.push(`${team}:${login}`);
    const key = `${team}:${login}`;
    return Object.hasOwn(known, key) ? known[key] : undefined;
  };
  return Object.assign(lookup, { asked });
}

function snapshot(reviews: Review[], commands: RequestSnapshot["commands"] = []): RequestSnapshot {
  const policy = loadPolicy(".github/jit-access.yml", OPEN_POLICY);
  return {
    owner: "acme",
    repo: "access",
    repoId: 1,
    defaultBranch: "main",
    pr: { number: 7, url: "", author: "alice", authorId: 1, state: "open", merged: false, draft: false, headSha: HEAD, baseRef: "main", fromFork: false, createdAt: "2026-11-29T12:00:00Z", labels: [], reopened: false },
    kind: { kind: "request", file: { path: PATH, status: "added", blobSha: blobSha(CONTENT) } },
    policy,
    grantContent: Buffer.from(CONTENT),
    codeowners: parseCodeowners(".github/CODEOWNERS", CODEOWNERS),
    reviews,
    contributors: ["alice"],
    blobAt: new Map(),
    memberships: new Map(),
    commands,
  };
}

describe("counting with unknown memberships (pure)", () => {
  it("a changes-requested review whose membership is unknown keeps the request from being complete, and is named", () => {
    const o = countApprovals(ALL, screened([review("bob", "APPROVED"), review("carol", "APPROVED"), review("dora", "CHANGES_REQUESTED")]),
      knowing({ "@acme/dba:bob": true, "@acme/security:carol": true }));
    expect(o.groups.every((g) => g.satisfied)).toBe(true);
    expect(o).toMatchObject({ complete: false, rejectedBy: [], unresolvedVetoes: ["dora"] });
  });

  it("an objector known to be outside every group is no veto; one known inside is", () => {
    const reviews = [review("bob", "APPROVED"), review("carol", "APPROVED"), review("dora", "CHANGES_REQUESTED")];
    const base = { "@acme/dba:bob": true, "@acme/security:carol": true };
    expect(countApprovals(ALL, screened(reviews), knowing({ ...base, "@acme/dba:dora": false, "@acme/security:dora": false }))).toMatchObject({ complete: true, unresolvedVetoes: [] });
    expect(countApprovals(ALL, screened(reviews), knowing({ ...base, "@acme/dba:dora": true }))).toMatchObject({ complete: false, rejectedBy: ["dora"], unresolvedVetoes: [] });
  });

  it("asks about vetoes (/jit reject first, then changes requested) before any approval", () => {
    const lookup = knowing({});
    const reviews = [review("bob", "APPROVED"), review("carol", "APPROVED"), review("dora", "CHANGES_REQUESTED")];
    judgeRequest(snapshot(reviews, [{ id: 1, login: "erin", command: "reject", reason: "no", createdAt: "2026-11-29T12:30:00Z" }]), NOW, lookup);
    const firstApproval = lookup.asked.findIndex((q) => q.endsWith(":bob") || q.endsWith(":carol"));
    expect(lookup.asked.slice(0, firstApproval)).toEqual(["@acme/dba:erin", "@acme/security:erin", "@acme/dba:dora", "@acme/security:dora"]);
  });

  it("a /jit reject whose membership is unknown keeps the request pending, never approved, and the check says why", () => {
    const reviews = [review("bob", "APPROVED"), review("carol", "APPROVED")];
    const j = judgeRequest(snapshot(reviews, [{ id: 1, login: "erin", command: "reject", reason: "no", createdAt: "2026-11-29T12:30:00Z" }]), NOW,
      knowing({ "@acme/dba:bob": true, "@acme/security:carol": true }));
    expect(j.verdict).toBe("pending");
    if (j.verdict !== "pending") return;
    expect(j.outcome.unresolvedVetoes).toEqual(["erin"]);
    expect(visible(progressSummary(j.grant, { requirement: j.requirement, outcome: j.outcome }))).toContain(
      "⛔ erin objected, and whether erin is an approver could not be confirmed (too many membership lookups): this request cannot be approved while the objection stands",
    );
  });

  it("an auto-approved requester is not approved past an unresolved veto either", () => {
    const text = OPEN_POLICY.replace("        grant: { roles: [analytics_read] }\n", "        grant: { roles: [analytics_read] }\n        auto_approve: [\"@acme/sre\"]\n");
    const s = { ...snapshot([review("dora", "CHANGES_REQUESTED")]), policy: loadPolicy(".github/jit-access.yml", text) };
    expect(judgeRequest(s, NOW, knowing({ "@acme/sre:alice": true })).verdict).toBe("pending");
  });
});

describe("the membership-lookup cap, through the app", () => {
  let probot: Probot;
  beforeEach(async () => {
    probot = await startApp(NOW);
  });

  it("many approvals cannot push a group member's changes-requested review past the cap: the request is rejected, never merged", async () => {
    // Enough approvers that their lookups alone (2 groups each) exceed the cap; the veto comes last.
    const approvers = Array.from({ length: MAX_MEMBERSHIP_LOOKUPS / 2 }, (_, i) => `r${String(i + 1).padStart(2, "0")}`);
    expect(approvers.length * 2).toBeGreaterThanOrEqual(MAX_MEMBERSHIP_LOOKUPS);
    const reviews = [...approvers.map((login) => ({ login, state: "APPROVED" })), { login: "dora", state: "CHANGES_REQUESTED" }];
    // What the app may ask, in the order it asks: the veto first, then approvals until the cap.
    const memberships: Scenario["memberships"] = { "@acme/dba:dora": "active" };
    const approvalLookups = MAX_MEMBERSHIP_LOOKUPS - 1;
    for (const group of ["@acme/dba", "@acme/security"]) {
      for (const login of approvers) {
        if (Object.keys(memberships).length > approvalLookups) break;
        const member = (group === "@acme/dba" && login === "r01") || (group === "@acme/security" && login === "r02");
        memberships[`${group}:${login}`] = member ? "active" : "none";
      }
    }
    const sc: Scenario = {
      pr: prFields({ labels: ["jit:pending"] }),
      files: [{ filename: PATH, status: "added", content: CONTENT }],
      policy: OPEN_POLICY,
      codeowners: { path: ".github/CODEOWNERS", text: CODEOWNERS },
      reviews,
      memberships,
    };
    expect(Object.keys(memberships)).toHaveLength(MAX_MEMBERSHIP_LOOKUPS);

    const api = githubApi();
    mockInstallationToken(api);
    mockReads(api, sc);
    mockApprovalReads(api, sc); // the record (no check run yet) is read with the snapshot
    let check: any;
    api.post(`${R}/check-runs`, (b) => ((check = b), true)).reply(201, { id: 1 });
    api.put(`${R}/issues/7/labels`, { labels: ["jit:rejected"] }).reply(200, []);
    api.patch(`${R}/pulls/7`, { state: "closed" }).reply(200, {});
    let comment: any;
    api.post(`${R}/issues/7/comments`, (b) => ((comment = b), true)).reply(201, { id: 55 });
    await deliver(probot, "pull_request_review", reviewEvent("submitted", sc.pr, { login: "dora", state: "CHANGES_REQUESTED", commitId: HEAD }));
    api.done(); // no PUT .../merge was made
    expect(check).toMatchObject({ conclusion: "failure", output: { title: "Rejected", text: comment.body } });
    expect(visible(comment.body)).toContain("Rejected by dora: changes requested in a review. Nothing was granted.");
  });
});
