import { formatDuration } from "../grant/duration.js";
import { readStatusState } from "../github/snapshot.js";
import { githubFrom, onGitHub, repoFrom, type CliEnv } from "./context.js";

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

/** `jit status`: pending and live requests, from their status comments. Three searches and one read per request. */
export async function status(ctx: CliEnv, o: { repo?: string; mine?: boolean }, now: Date): Promise<StatusRow[]> {
  const gh = githubFrom(ctx);
  const ref = repoFrom(ctx, o.repo);
  const me = o.mine ? (await onGitHub("reading the signed-in user", () => gh.rest.users.getAuthenticated())).data.login : undefined;
  const rows: StatusRow[] = [];
  for (const [state, label] of SEARCHES) {
    const q = `is:pr ${state} label:"${label}" repo:${ref.owner}/${ref.repo}${me ? ` author:${me}` : ""}`;
    const items = await onGitHub("searching requests", () => gh.paginate(gh.rest.search.issuesAndPullRequests, { q, per_page: 100 }));
    for (const item of items) {
      const st = await onGitHub(`reading #${item.number}`, () => readStatusState(gh, { ...ref, number: item.number }, undefined));
      const grant = st?.grant;
      const shown = st?.status === "APPROVED" ? "LIVE" : (st?.status ?? "PENDING");
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
          : "",
      });
    }
  }
  return rows.sort((a, b) => a.pr - b.pr);
}
