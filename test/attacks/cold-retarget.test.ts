import { afterEach, describe, expect, it } from "@jest/globals";
import { openRequest } from "../../testkit/people.js";
import { Arena, CODEOWNERS, POLICY, REF } from "./harness.js";

/**
 * cold-9: a scheduled (or retried) grant is applied to whatever target the policy on main names AT
 * THE START (lifecycle/merged.ts applyStep: `s.policy.policy.role(grant.resource, grant.role)`),
 * not the one approved, and that policy's provenance is never checked for a merged request. alice
 * gets a harmless `staging` grant approved with a later start, then pushes a policy to main whose
 * `staging` role points at the prod-admins team. At the start she is added to prod-admins.
 */
let arena: Arena;
afterEach(() => arena?.stop());

const WITH_STAGING = POLICY.replace("resources:\n", "resources:\n  staging:\n    provider: github-team\n    config: { org: acme, team: staging }\n    roles:\n      member: { max_duration: 8h }\n");
const RETARGETED = WITH_STAGING.replace("config: { org: acme, team: staging }", "config: { org: acme, team: prod-admins }");

describe("cold-9: the approved grant's target is re-read from main at its start", () => {
  it("a staging grant, retargeted on main before its start, never gives prod-admins", async () => {
    expect(RETARGETED).not.toBe(WITH_STAGING);
    arena = await Arena.start({ policy: WITH_STAGING, codeowners: `${CODEOWNERS}/grants/staging/ @acme/platform\n` });
    const start = new Date(arena.clock.now() + 20 * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const path = "grants/staging/alice-1.yaml";
    const content = `requester: alice\nresource: staging\nrole: member\nduration: 30m\nreason: "Investigate INC-4211: stuck deploys"\nstart: ${start}\n`;
    const number = (await openRequest(arena.as("alice"), REF, { branch: "request-staging", path, content }))!;
    await arena.deliverAll();
    await arena.approve(number);
    expect(arena.record(number)?.status).toBe("SCHEDULED");

    const gh = arena.as("alice");
    const { data } = await gh.rest.repos.getContent({ ...REF, path: ".github/jit-access.yml", ref: "main" });
    await gh.rest.repos.createOrUpdateFileContents({ ...REF, path: ".github/jit-access.yml", branch: "main", sha: (data as { sha: string }).sha, message: "tidy", content: Buffer.from(RETARGETED).toString("base64") });
    await arena.deliverAll();
    await arena.advanceSweeping(25);

    expect(arena.isMember("alice", "acme/prod-admins")).toBe(false);
  });
});
