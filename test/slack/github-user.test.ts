import { expect, it } from "@jest/globals";
import { FakeGitHub } from "../../testkit/fake-github.js";
import { GitHubUser } from "../../src/slack/github-user.js";

/** The GitHub App's user authorization against the in-memory GitHub's token endpoint: exchange, then renewal before expiry. */
it("exchanges the code for a token acting as the person, and renews it with the refresh token before it expires", async () => {
  let now = new Date("2026-12-07T00:00:00Z");
  const fake = new FakeGitHub({ appId: 95, now: () => now });
  const gh = new GitHubUser({ clientId: fake.oauthClient.id, clientSecret: fake.oauthClient.secret, fetch: fake.fetch as unknown as typeof fetch, now: () => now });

  const account = await gh.exchange(fake.authorize("bob"), "state-1", "https://jit.example.com/slack/oauth/callback");
  expect(account).toMatchObject({ login: "bob", expiresAt: "2026-12-07T08:00:00.000Z", linkedAt: now.toISOString() });
  expect((await gh.octokit(account.token).rest.users.getAuthenticated()).data.login).toBe("bob");
  // A code works once.
  await expect(gh.exchange("fake_code_unknown", "state-1", "https://jit.example.com/slack/oauth/callback")).rejects.toThrow(/bad_verification_code|incorrect or expired/);

  expect(await gh.fresh(account)).toEqual({ account, renewed: false });
  now = new Date("2026-12-07T07:58:00Z");
  const renewed = await gh.fresh(account);
  expect(renewed?.renewed).toBe(true);
  expect(renewed!.account.token).not.toBe(account.token);
  expect(renewed!.account.refreshToken).not.toBe(account.refreshToken);
  expect((await gh.octokit(renewed!.account.token).rest.users.getAuthenticated()).data.login).toBe("bob");
  // The old refresh token was spent; a refresh token past its own expiry means linking again.
  await expect(gh.fresh(account)).rejects.toThrow(/bad_refresh_token|incorrect or expired/);
  expect(await gh.fresh({ ...account, refreshTokenExpiresAt: "2026-12-01T00:00:00.000Z" })).toBeUndefined();
});
