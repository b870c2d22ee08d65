import { OAuthApp } from "@octokit/oauth-app";
import { Octokit as OAuthOctokit } from "@octokit/core";
import { Octokit } from "@octokit/rest";
import type { LinkedAccount } from "./links.js";

/** GitHub's web-flow endpoints and the REST API, reached through one `fetch` (tests: the in-memory GitHub). */
export interface GitHubUserOptions {
  clientId: string;
  clientSecret: string;
  fetch?: typeof globalThis.fetch;
  now?: () => Date;
}

/** A token this close to its expiry is renewed before use. */
const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * The GitHub App's user authorization (web flow): the link page sends the person to GitHub with a
 * single-use state; GitHub sends them back with a code, exchanged here for a user-to-server token.
 * Requests made with it are the person's own: GitHub applies their permissions, refuses them a
 * review of their own pull request, and shows the review as theirs ("via jit-access").
 */
export class GitHubUser {
  private readonly oauth: OAuthApp<{ clientType: "github-app"; Octokit: typeof OAuthOctokit }>;
  private readonly now: () => Date;

  constructor(private readonly options: GitHubUserOptions) {
    const request = options.fetch ? { request: { fetch: options.fetch } } : {};
    this.oauth = new OAuthApp({ clientType: "github-app", clientId: options.clientId, clientSecret: options.clientSecret, Octokit: OAuthOctokit.defaults(request) });
    this.now = options.now ?? (() => new Date());
  }

  authorizeUrl(state: string, redirectUrl: string): string {
    return this.oauth.getWebFlowAuthorizationUrl({ state, redirectUrl }).url;
  }

  /** Exchanges the code GitHub sent back, and asks GitHub who the token belongs to. */
  async exchange(code: string, state: string, redirectUrl: string): Promise<LinkedAccount> {
    const { authentication: a } = await this.oauth.createToken({ code, state, redirectUrl });
    const { data: me } = await this.octokit(a.token).rest.users.getAuthenticated();
    return {
      login: me.login,
      githubId: me.id,
      token: a.token,
      ...(a.expiresAt ? { expiresAt: a.expiresAt } : {}),
      ...(a.refreshToken ? { refreshToken: a.refreshToken } : {}),
      ...(a.refreshTokenExpiresAt ? { refreshTokenExpiresAt: a.refreshTokenExpiresAt } : {}),
      linkedAt: this.now().toISOString(),
    };
  }

  /** The account with a usable token: renewed with the refresh token when about to expire (undefined: link again). */
  async fresh(account: LinkedAccount): Promise<{ account: LinkedAccount; renewed: boolean } | undefined> {
    const now = this.now().getTime();
    if (!account.expiresAt || Date.parse(account.expiresAt) - now > RENEW_BEFORE_MS) return { account, renewed: false };
    if (!account.refreshToken || (account.refreshTokenExpiresAt && Date.parse(account.refreshTokenExpiresAt) <= now)) return undefined;
    const { authentication: a } = await this.oauth.refreshToken({ refreshToken: account.refreshToken });
    return {
      account: { ...account, token: a.token, expiresAt: a.expiresAt, refreshToken: a.refreshToken, refreshTokenExpiresAt: a.refreshTokenExpiresAt },
      renewed: true,
    };
  }

  /** A REST client acting as the person. */
  octokit(token: string): Octokit {
    return new Octokit({ auth: token, ...(this.options.fetch ? { request: { fetch: this.options.fetch } } : {}), log: { debug() {}, info() {}, warn() {}, error() {} } });
  }
}
