import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { awsIdentityCenter, awsIdentityCenterProvider, type AwsIdentityCenterOptions } from "../../src/providers/aws-identity-center.js";
import { ProviderError, standingOf, unitsToRevoke, type GrantTarget, type OtherGrant } from "../../src/providers/types.js";
import { FakeSsoAdmin } from "../../testkit/fake-sso-admin.js";

// Verified against an in-repo FAKE of the SSO Admin API (testkit/fake-sso-admin.ts), not AWS.

const INSTANCE = "arn:aws:sso:::instance/ssoins-1111222233334444";
const ADMIN = "arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd";
const READ_ONLY = "arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-eeeeffff00001111";
const ALICE = "9067d7e4-1234-4abc-8def-0123456789ab";
const BOB = "9067d7e4-5678-4abc-8def-0123456789ab";
const ACCOUNT = "123456789012";
const ACCESS_KEY = "AKIDFAKEFORTESTS0001";
const SECRET_KEY = "fake-secret-key-for-tests-only-000000000";
const FAST: AwsIdentityCenterOptions = { pollMs: 5, timeoutMs: 3_000, backoffMs: [5, 10, 20, 40] };

let fake: FakeSsoAdmin;
beforeEach(async () => {
  fake = await FakeSsoAdmin.start({ instanceArn: INSTANCE, permissionSets: [ADMIN, READ_ONLY], accessKeyId: ACCESS_KEY, region: "eu-west-1", pollsToSettle: 2, maxPage: 2 });
});
afterEach(() => fake.close());

const env = () => ({ AWS_ENDPOINT_URL_SSO_ADMIN: fake.url, AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY });
const provider = (options = FAST) => awsIdentityCenterProvider(env(), options);

const grant = (id: number, permissionSet = ADMIN, requester = "alice"): GrantTarget => ({
  id: `acme/access#${id}`,
  requester,
  resource: "aws-prod",
  role: "admin",
  provider: "aws-identity-center",
  config: { instance_arn: INSTANCE, region: "eu-west-1", account_id: ACCOUNT, principals: { Alice: ALICE, bob: BOB } },
  grant: { permission_set_arn: permissionSet },
  startsAt: "2026-12-07T10:00:00.000Z",
  expiresAt: "2026-12-07T12:00:00.000Z",
  pullRequest: `https://github.com/acme/access/pull/${id}`,
});

const assignment = (principal = ALICE, permissionSet = ADMIN) => ({ AccountId: ACCOUNT, PermissionSetArn: permissionSet, PrincipalType: "USER" as const, PrincipalId: principal });

/** What the executor does: read held, keep standing, apply; later revoke what reference counting allows. */
async function applyGrant(t: GrantTarget, others: OtherGrant[] = []): Promise<OtherGrant> {
  const p = provider();
  const standing = standingOf(p, t, await p.held(t), others);
  await p.apply(t);
  return { target: t, standing };
}
async function revokeGrant(live: OtherGrant, others: OtherGrant[] = []): Promise<void> {
  const p = provider();
  await p.revoke(live.target, unitsToRevoke(p, live.target, live.standing, others));
}

describe("aws-identity-center, against the in-repo fake SSO Admin API", () => {
  it("applies: creates the assignment and polls its status until SUCCEEDED; revokes: deletes it the same way", async () => {
    const live = await applyGrant(grant(1));
    expect(fake.assignments).toEqual([assignment()]);
    expect(fake.calls).toEqual(["ListAccountAssignments", "ListAccountAssignments", "CreateAccountAssignment", "DescribeAccountAssignmentCreationStatus", "DescribeAccountAssignmentCreationStatus"]);
    fake.calls.length = 0;
    await revokeGrant(live);
    expect(fake.assignments).toEqual([]);
    expect(fake.calls).toEqual(["ListAccountAssignments", "DeleteAccountAssignment", "DescribeAccountAssignmentDeletionStatus", "DescribeAccountAssignmentDeletionStatus"]);
  });

  it("replays are idempotent: a second apply and a second revoke find the work done and change nothing", async () => {
    const live = await applyGrant(grant(1));
    fake.calls.length = 0;
    await provider().apply(grant(1));
    expect(fake.assignments).toEqual([assignment()]);
    expect(fake.calls).toEqual(["ListAccountAssignments"]);
    await revokeGrant(live);
    fake.calls.length = 0;
    await revokeGrant(live);
    expect(fake.assignments).toEqual([]);
    expect(fake.calls).toEqual(["ListAccountAssignments"]);
  });

  it("counts references: of two overlapping grants, the first to end leaves the assignment, the last removes it", async () => {
    const first = await applyGrant(grant(1));
    const second = await applyGrant(grant(2), [first]);
    expect(second.standing).toEqual([]);
    await revokeGrant(first, [second]);
    expect(fake.assignments).toEqual([assignment()]);
    await revokeGrant(second, []);
    expect(fake.assignments).toEqual([]);
  });

  it("keeps standing access: an assignment held before the grant survives its revoke, and others are untouched", async () => {
    fake.assignments.push(assignment(), assignment(BOB), assignment(ALICE, READ_ONLY));
    const live = await applyGrant(grant(1));
    expect(live.standing).toHaveLength(1);
    await revokeGrant(live);
    expect(fake.assignments).toEqual([assignment(), assignment(BOB), assignment(ALICE, READ_ONLY)]);
  });

  it("with principal_type GROUP, assigns the mapped group", async () => {
    const t = { ...grant(1), config: { ...grant(1).config, principal_type: "GROUP" } };
    const p = provider();
    await p.apply(t);
    expect(fake.assignments).toEqual([{ ...assignment(), PrincipalType: "GROUP" }]);
    await p.revoke(t, p.units(t));
    expect(fake.assignments).toEqual([]);
  });

  it("finds the principal on any page of ListAccountAssignments", async () => {
    for (let i = 0; i < 5; i++) fake.assignments.push(assignment(`9067d7e4-0000-4abc-8def-00000000000${i}`));
    fake.assignments.push(assignment());
    const p = provider();
    expect(await p.held(grant(1))).toEqual(p.units(grant(1)));
    expect(fake.calls.filter((c) => c === "ListAccountAssignments")).toHaveLength(3);
  });

  it("counts a FAILED status as a failure, with AWS's reason, and nothing is assigned", async () => {
    fake.failNext("create", "Received a 404 status error: the permission set is not provisioned to the account");
    const error = await provider().apply(grant(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toBe("aws-prod: creating the assignment failed: Received a 404 status error: the permission set is not provisioned to the account");
    expect((error as ProviderError).retryable).toBe(false);
    expect(fake.assignments).toEqual([]);
  });

  it("a deletion that ends FAILED while the assignment remains is a failure", async () => {
    const live = await applyGrant(grant(1));
    fake.failNext("delete", "Internal failure");
    await expect(revokeGrant(live)).rejects.toThrow("aws-prod: deleting the assignment failed: Internal failure");
    expect(fake.assignments).toEqual([assignment()]);
  });

  it("gives up polling after the timeout, retryably, without counting the assignment as done", async () => {
    fake.pollsToSettle = 1_000;
    const error = await provider({ pollMs: 5, timeoutMs: 100, backoffMs: [] }).apply(grant(1)).catch((e: unknown) => e);
    expect((error as ProviderError).message).toBe("aws-prod: creating the assignment was still in progress after 0.1 s; trying again");
    expect((error as ProviderError).retryable).toBe(true);
    expect(fake.assignments).toEqual([]);
  });

  it("retries ThrottlingException with backoff, then succeeds", async () => {
    fake.throttle(3, "CreateAccountAssignment");
    await provider().apply(grant(1));
    expect(fake.assignments).toEqual([assignment()]);
    expect(fake.calls.slice(0, 5)).toEqual(["ListAccountAssignments", "CreateAccountAssignment", "CreateAccountAssignment", "CreateAccountAssignment", "CreateAccountAssignment"]);
  });

  it("a throttled listing starts again from its first page", async () => {
    for (let i = 0; i < 4; i++) fake.assignments.push(assignment(`9067d7e4-0000-4abc-8def-00000000000${i}`));
    fake.assignments.push(assignment());
    const p = provider();
    const listing = p.held(grant(1));
    fake.throttle(2, "ListAccountAssignments");
    expect(await listing).toEqual(p.units(grant(1)));
    expect(fake.calls.filter((c) => c === "ListAccountAssignments")).toHaveLength(5);
  });

  it("retries ConflictException (a concurrent change to the same permission set), then succeeds", async () => {
    fake.conflict(2, "CreateAccountAssignment");
    await provider().apply(grant(1));
    expect(fake.assignments).toEqual([assignment()]);
    expect(fake.calls.filter((c) => c === "CreateAccountAssignment")).toHaveLength(3);
  });

  it("two grants applied at once on the same permission set meet a real conflict in the fake, and both succeed", async () => {
    await Promise.all([provider().apply(grant(1)), provider().apply(grant(2, ADMIN, "bob"))]);
    expect(fake.assignments).toHaveLength(2);
    // One of them was refused with ConflictException while the other was IN_PROGRESS, and retried.
    expect(fake.calls.filter((c) => c === "CreateAccountAssignment").length).toBeGreaterThan(2);
  });

  it("throttling that outlasts the backoff is a retryable failure", async () => {
    fake.throttle(100, "CreateAccountAssignment");
    const error = await provider({ pollMs: 5, timeoutMs: 3_000, backoffMs: [5, 5] }).apply(grant(1)).catch((e: unknown) => e);
    expect((error as ProviderError).message).toBe("aws-prod: creating the assignment failed: ThrottlingException: Rate exceeded");
    expect((error as ProviderError).retryable).toBe(true);
  });

  it("refuses a login the policy does not map, before any request", async () => {
    const p = provider();
    await expect(p.apply(grant(1, ADMIN, "mallory"))).rejects.toThrow("aws-prod: mallory has no Identity Center principal in config.principals");
    expect(p.units(grant(1, ADMIN, "mallory"))).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  it("a permission set the instance does not have fails clearly and is not retried", async () => {
    const unknown = "arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-0000000000000000";
    const error = await provider().apply(grant(1, unknown)).catch((e: unknown) => e);
    expect((error as ProviderError).message).toBe("aws-prod: listing the account's assignments failed: ResourceNotFoundException: The specified permission set does not exist.");
    expect((error as ProviderError).retryable).toBe(false);
  });

  it("an unreachable endpoint is shown without its address", async () => {
    const url = fake.url;
    await fake.close();
    const error = await awsIdentityCenterProvider({ ...env(), AWS_ENDPOINT_URL_SSO_ADMIN: url }, { ...FAST, backoffMs: [] }).apply(grant(1)).catch((e: unknown) => e);
    expect((error as ProviderError).message).toBe("aws-prod: listing the account's assignments failed: could not reach AWS (connection refused)");
    expect((error as ProviderError).retryable).toBe(true);
    expect((error as ProviderError).message).not.toContain(new URL(url).port);
    fake = await FakeSsoAdmin.start({ instanceArn: INSTANCE, permissionSets: [ADMIN], accessKeyId: ACCESS_KEY, region: "eu-west-1" });
  });

  it("the fake is strict: a request that does not fit the SSO Admin model is refused", async () => {
    const response = await fetch(fake.url, { method: "POST", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "SWBExternalService.CreateAccountAssignment" }, body: "{}" });
    expect(response.status).toBe(403);
    const p = awsIdentityCenterProvider({ ...env(), AWS_ACCESS_KEY_ID: "AKIDSOMEONEELSE00001" }, FAST);
    await expect(p.held(grant(1))).rejects.toThrow("UnrecognizedClientException");
  });

  it("is labelled in its table entry as verified against a fake", () => {
    expect(awsIdentityCenter.name).toBe("aws-identity-center");
    expect(awsIdentityCenter.docs.verifiedAgainst.kind).toBe("fake");
  });
});
