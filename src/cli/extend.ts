import { randomBytes } from "node:crypto";
import type { CommentState } from "../lifecycle/codec.js";
import { CliError, githubFrom, onGitHub, repoFrom, trustedAppFrom, type CliEnv } from "./context.js";
import { readRecord } from "./record.js";
import { openRequest } from "./request.js";

export interface ExtendOptions {
  /** How much longer: the new request's duration. */
  by: string;
  reason: string;
  /** Defaults to the original grant's ticket (a role with a ticket_pattern needs one). */
  ticket?: string;
  repo?: string;
}

/** What the extension asks for, taken from the live grant it continues. */
export interface Extension {
  requester: string;
  resource: string;
  role: string;
  /** The live grant's `expires_at`: the extension starts where it ends. */
  start: string;
  ticket?: string;
}

const WHY_NOT_LIVE: Record<string, string> = {
  PENDING: "it is still waiting for approval",
  SCHEDULED: "it is approved but has not started yet",
  APPLYING: "it is still being applied",
  REJECTED: "it was rejected",
  REVOKED: "it was revoked",
  EXECUTED: "it has expired",
};

/**
 * Pure: the extension of a request PR, from the state its record holds, or the one
 * line that says why there is none. Only a live grant (APPROVED, its window still open) can be
 * continued; anything else needs a new request.
 */
export function planExtension(pr: number, state: CommentState | undefined, now: Date): Extension {
  const refuse = (why: string) => new CliError(`#${pr} cannot be extended: ${why}; nothing was created`, 1);
  if (!state?.status || !state.grant) throw refuse("jit-access has no record of a grant on it");
  if (state.status !== "APPROVED") throw refuse(`it is not a live grant (${WHY_NOT_LIVE[state.status] ?? state.status})`);
  const ends = Date.parse(state.expires_at ?? "");
  if (Number.isNaN(ends)) throw refuse("its record has no end of the window");
  if (ends <= now.getTime()) throw refuse(`its window closed at ${state.expires_at}`);
  const { requester, resource, role, ticket } = state.grant;
  return { requester, resource, role, start: new Date(ends).toISOString().replace(".000Z", "Z"), ...(ticket ? { ticket } : {}) };
}

/**
 * `jit extend <pr>`: a new request PR for the same resource and role, starting when the live
 * grant ends, judged like any request (`jit request`'s own validation and creation path). The
 * original is named in the reason and linked from the PR body (`#N`, which GitHub also shows on
 * the original's timeline).
 */
export async function extend(ctx: CliEnv, pr: number, o: ExtendOptions, now: Date, randomId = () => randomBytes(2).toString("hex")): Promise<string[]> {
  const app = trustedAppFrom(ctx);
  const gh = githubFrom(ctx);
  const ref = repoFrom(ctx, o.repo);
  const state = await onGitHub(`reading #${pr}`, () => readRecord(gh, { ...ref, number: pr }, app));
  const plan = planExtension(pr, state, now);
  const { data: me } = await onGitHub("reading the signed-in user", () => gh.rest.users.getAuthenticated());
  if (me.login.toLowerCase() !== plan.requester.toLowerCase()) {
    throw new CliError(`#${pr} is ${plan.requester}'s grant: only they can extend it (you are ${me.login}); nothing was created`, 1);
  }
  const ticket = o.ticket ?? plan.ticket;
  return openRequest(
    gh,
    ref,
    me.login,
    plan.resource,
    { role: plan.role, duration: o.by, reason: `${o.reason} (extends #${pr})`, start: plan.start, ...(ticket ? { ticket } : {}) },
    now,
    randomId,
    { command: "jit extend", titleSuffix: ` (extends #${pr})`, body: `Extends #${pr}: starts when its window ends, at ${plan.start}.` },
  );
}
