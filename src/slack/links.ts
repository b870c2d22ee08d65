import { randomBytes } from "node:crypto";
import { seal, unseal } from "./seal.js";
import type { KeyValue } from "./store.js";

/**
 * Slack people linked to their GitHub accounts: a GitHub App user-to-server token (and its refresh
 * token) per Slack user, sealed with AES-256-GCM before it reaches the store. A link older than the
 * configured age counts as absent (the person links again); GitHub's `github_app_authorization`
 * (revoked) removes every link of that GitHub user.
 */
export interface LinkedAccount {
  login: string;
  githubId: number;
  token: string;
  /** User-to-server tokens expire (8 h) unless the app opted out; the refresh token renews them. */
  expiresAt?: string;
  refreshToken?: string;
  refreshTokenExpiresAt?: string;
  linkedAt: string;
}

/** A link state lives this long: the person opens the page and authorizes within 10 minutes. */
export const LINK_STATE_TTL_MS = 10 * 60_000;

export const slackPerson = (teamId: string, userId: string) => `${teamId}:${userId}`;
const linkKey = (person: string) => `link:${person}`;
const byGitHubKey = (githubId: number) => `gh:${githubId}`;
const stateKey = (state: string) => `state:${state}`;
const pendingKey = (token: string) => `pending:${token}`;

/** A GitHub authorization waiting for its holder to confirm which Slack account it links to. */
export interface PendingLink {
  person: string;
  account: LinkedAccount;
}

export class AccountLinks {
  constructor(
    private readonly store: KeyValue,
    private readonly key: Buffer,
    private readonly maxAgeMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(person: string): Promise<LinkedAccount | undefined> {
    const sealed = await this.store.get(linkKey(person));
    const plain = sealed === undefined ? undefined : unseal(this.key, linkKey(person), sealed);
    if (plain === undefined) return undefined;
    const account = JSON.parse(plain) as LinkedAccount;
    return this.now().getTime() - Date.parse(account.linkedAt) > this.maxAgeMs ? undefined : account;
  }

  async save(person: string, account: LinkedAccount): Promise<void> {
    const ttl = Math.max(1, Date.parse(account.linkedAt) + this.maxAgeMs - this.now().getTime());
    await this.store.set(linkKey(person), seal(this.key, linkKey(person), JSON.stringify(account)), ttl);
    const others = JSON.parse((await this.store.get(byGitHubKey(account.githubId))) ?? "[]") as string[];
    await this.store.set(byGitHubKey(account.githubId), JSON.stringify([...new Set([...others, person])]), this.maxAgeMs);
  }

  /** The Slack people (team:user) with a live link to this GitHub user. */
  async slackPeopleOf(githubId: number): Promise<string[]> {
    const people = JSON.parse((await this.store.get(byGitHubKey(githubId))) ?? "[]") as string[];
    const live: string[] = [];
    for (const person of people) if ((await this.get(person))?.githubId === githubId) live.push(person);
    return live;
  }

  /** The person revoked the app's authorization on GitHub: every Slack link to them goes. */
  async unlinkGitHubUser(githubId: number): Promise<number> {
    const people = JSON.parse((await this.store.take(byGitHubKey(githubId))) ?? "[]") as string[];
    for (const person of people) await this.store.delete(linkKey(person));
    return people.length;
  }

  async unlink(person: string): Promise<void> {
    await this.store.delete(linkKey(person));
  }

  /** A single-use state for the link page, bound to the Slack person who asked. */
  async newState(person: string): Promise<string> {
    const state = randomBytes(24).toString("base64url");
    await this.store.set(stateKey(state), person, LINK_STATE_TTL_MS);
    return state;
  }

  async peekState(state: string): Promise<string | undefined> {
    return /^[A-Za-z0-9_-]{32}$/.test(state) ? this.store.get(stateKey(state)) : undefined;
  }

  /**
   * Holds a completed GitHub authorization until the browser that completed it confirms the Slack
   * account named on the page (sealed like a link; single-use, 10 minutes). Returns the token the
   * confirmation form carries.
   */
  async holdPending(pending: PendingLink): Promise<string> {
    const token = randomBytes(24).toString("base64url");
    await this.store.set(pendingKey(token), seal(this.key, pendingKey(token), JSON.stringify(pending)), LINK_STATE_TTL_MS);
    return token;
  }

  /** The pending link the confirmation names; gone afterwards, whatever happens next. */
  async takePending(token: string): Promise<PendingLink | undefined> {
    if (!/^[A-Za-z0-9_-]{32}$/.test(token)) return undefined;
    const sealed = await this.store.take(pendingKey(token));
    const plain = sealed === undefined ? undefined : unseal(this.key, pendingKey(token), sealed);
    return plain === undefined ? undefined : (JSON.parse(plain) as PendingLink);
  }

  /** The Slack person the state was made for; the state is gone afterwards, whatever happens next. */
  async takeState(state: string): Promise<string | undefined> {
    return /^[A-Za-z0-9_-]{32}$/.test(state) ? this.store.take(stateKey(state)) : undefined;
  }
}
