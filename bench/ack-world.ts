import { resetLiveGrantCaches } from "../src/github/live-grants.js";
import { FakeGitHub, type Delivery } from "../testkit/fake-github.js";
import { accessRepository, ref, seedLiveGrant } from "../testkit/live-grants.js";

/** The ack-latency benchmark's world: one live grant a user, each with its requester's `/jit revoke` comment (and its webhook). */
export const ACK_APP_ID = 1;
export const ACK_SECRET = "benchmark-webhook-secret";

export async function ackWorld(users: string[]): Promise<{ fake: FakeGitHub; deliveries: Delivery[] }> {
  const fake = new FakeGitHub(ACK_APP_ID);
  accessRepository(fake, users);
  const now = Date.now();
  for (const user of users) {
    fake.addMember("acme/prod-admins", user);
    await seedLiveGrant(fake, user, { appliedAt: new Date(now - 3600_000), expiresAt: new Date(now + 3600_000) });
  }
  fake.deliveries.length = 0;
  for (const [i, user] of users.entries()) await fake.as(user).rest.issues.createComment({ ...ref, issue_number: i + 1, body: "/jit revoke done with it" });
  resetLiveGrantCaches();
  fake.reset();
  return { fake, deliveries: fake.deliveries.filter((d) => d.name === "issue_comment") };
}
