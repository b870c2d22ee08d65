import { wasAnswered } from "../lifecycle/record.js";
import { commandText } from "../lifecycle/commands.js";
import { CliError, EXIT, githubFrom, onGitHub, repoFrom, trustedAppFrom, type CliEnv } from "./context.js";
import { headOf, readRecordAt } from "./record.js";

export interface RevokeOptions {
  repo?: string;
  reason?: string;
  /** How long to wait for jit-access's answer, in seconds. */
  timeout: number;
}

/**
 * `jit revoke <pr>`: posts `/jit revoke [reason]` on the request and waits for the app to carry it
 * out (its record says REVOKED) or refuse it (the record lists the command as answered). The
 * status comment is never read: anyone can edit it, or post one of their own that says REVOKED.
 */
export async function revoke(ctx: CliEnv, pr: number, o: RevokeOptions, sleep: (ms: number) => Promise<void>): Promise<string> {
  const app = trustedAppFrom(ctx);
  const gh = githubFrom(ctx);
  const ref = repoFrom(ctx, o.repo);
  // A merged request's head never moves: read once, before anything is posted.
  const head = await onGitHub(`reading #${pr}`, () => headOf(gh, { ...ref, number: pr }));
  const { data: command } = await onGitHub(`commenting on #${pr}`, () =>
    gh.rest.issues.createComment({ ...ref, issue_number: pr, body: commandText("revoke", o.reason) }),
  );
  const login = command.user?.login ?? "";
  for (let waited = 0; waited <= o.timeout * 1000; waited += 2000) {
    if (waited > 0) await sleep(2000);
    const state = await onGitHub(`reading #${pr}`, () => readRecordAt(gh, { ...ref, number: pr }, head, app));
    if (state?.status === "REVOKED" || state?.status === "EXECUTED") return `#${pr}: access taken away at ${state.revoked_at} (${state.ended_by ?? state.status.toLowerCase()})`;
    if (wasAnswered(state, command.id)) throw new CliError(`#${pr}: jit-access refused the revoke: only the requester, an approver of the grant or a policy admin may end it (you are ${login})`, EXIT.invalid);
  }
  throw new CliError(`#${pr}: no answer from jit-access within ${o.timeout}s; the command stays on the pull request and is carried out when the app sees it`, EXIT.github);
}
