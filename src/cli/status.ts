import { formatDuration } from "../grant/duration.js";
import { githubFrom, onGitHub, repoFrom, trustedAppFrom, type CliEnv } from "./context.js";
import { readRecord } from "./record.js";

export interface StatusRow {
  pr: number;
  requester: string;
  access: string;
  status: string;
  /** Approver groups still missing (pending), or the time left (live). */
  detail: string;
}

const SEARCHES = [
  ["is:open", "jit:pending"],
  ["is:merged", "jit:pending"],
  ["is:merged", "jit:approved"],
] as const;

/**
 * `jit status`: pending and live requests, from their records (three reads per request: the PR
 * for its head, the check runs there, the record's run). Labels only find candidates; a request
 * the trusted app has no record of is shown as UNKNOWN, whatever its labels or comments say.
 */
export async function status(ctx: CliEnv, o: { repo?: string; mine?: boolean }, now: Date): Promise<StatusRow[]> {
  const app = trustedAppFrom(ctx);
  const gh = githubFrom(ctx);
  const ref = repoFrom(ctx, o.repo);
  const me = o.mine ? (await onGitHub("reading the signed-in user", () => gh.rest.users.getAuthenticated())).data.login : undefined;
  const rows: StatusRow[] = [];
  for (const [state, label] of SEARCHES) {
    const q = `is:pr ${state} label:"${label}" repo:${ref.owner}/${ref.repo}${me ? ` author:${me}` : ""}`;
    const items = await onGitHub("searching requests", () => gh.paginate(gh.rest.search.issuesAndPullRequests, { q, per_page: 100 }));
    for (const item of items) {
      const st = await onGitHub(`reading #${item.number}`, () => readRecord(gh, { ...ref, number: item.number }, app));
      const grant = st?.grant;
      const shown = st?.status === "APPROVED" ? "LIVE" : (st?.status ?? "UNKNOWN");
      const left = st?.expires_at ? Date.parse(st.expires_at) - now.getTime() : undefined;
      rows.push({
        pr: item.number,
        requester: grant?.requester ?? item.user?.login ?? "?",
        access: grant ? `${grant.resource}/${grant.role} for ${grant.duration}` : item.title,
        status: shown,
        detail:
          st?.status === "APPROVED" && left !== undefined ? `${formatDuration(Math.max(0, left))} left`
          : st?.status === "SCHEDULED" ? `starts ${st.starts_at}`
          : st?.status === "APPLYING" ? `applying${st.error ? `: ${st.error}` : ""}`
          : st?.waiting_for?.length ? `waiting for ${st.waiting_for.join(", ")}`
          : !st?.status ? "no record from jit-access"
          : "",
      });
    }
  }
  return rows.sort((a, b) => a.pr - b.pr);
}
