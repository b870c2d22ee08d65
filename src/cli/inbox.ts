import { isInGroup, type MembershipLookup } from "../approval/evaluate.js";
import { formatDuration } from "../grant/duration.js";
import { loadRequestSnapshot, resolveMemberships } from "../github/snapshot.js";
import type { TeamMembers } from "../github/team-members.js";
import { judgeRequest } from "../lifecycle/judge.js";
import { membershipKey, type RequestSnapshot } from "../lifecycle/snapshot.js";
import { CliError, EXIT, githubFrom, onGitHub, repoFrom, trustedAppFrom, type CliEnv } from "./context.js";
import type { Output } from "./terminal.js";

export interface InboxRow {
  pr: number;
  url: string;
  requester: string;
  resource: string;
  role: string;
  duration: string;
  breakGlass: boolean;
  /** When the request was opened; `age` is measured from it. */
  openedAt: string;
  age: string;
  /** Every approver group still missing, as the app's status comment would list them. */
  missing: string[];
  /** Those of them I belong to: where my approval would count. */
  mine: string[];
}

/**
 * Pure: whether a request waits for me, and what it still needs. The app's own judgement decides
 * (`judgeRequest`: the same policy, CODEOWNERS, review screening and approval counting), so
 * "missing" means exactly what the status comment says. It is mine to approve when it is pending,
 * someone else's (not requested, authored or committed to by me), I have not approved it
 * already, and I belong to a group it still misses.
 */
export function inboxEntry(s: RequestSnapshot, me: string, now: Date, teamMember: MembershipLookup): InboxRow | undefined {
  const j = judgeRequest(s, now, teamMember);
  if (j.verdict !== "pending") return undefined;
  const self = me.toLowerCase();
  const involved = [j.grant.requester, s.pr.author, ...s.contributors].some((login) => login.toLowerCase() === self);
  if (involved) return undefined;
  if (j.outcome.groups.some((g) => g.approvedBy.some((login) => login.toLowerCase() === self))) return undefined;
  const missing = j.outcome.groups.filter((g) => !g.satisfied).map((g) => g.group);
  const mine = missing.filter((group) => isInGroup(group, me, teamMember));
  if (mine.length === 0) return undefined;
  return {
    pr: s.pr.number,
    url: s.pr.url,
    requester: j.grant.requester,
    resource: j.grant.resource,
    role: j.grant.role,
    duration: j.grant.duration,
    breakGlass: j.requirement.breakGlass,
    openedAt: s.pr.createdAt,
    age: formatDuration(Math.max(0, now.getTime() - Date.parse(s.pr.createdAt))),
    missing,
    mine,
  };
}

/** Oldest first: the longest wait is the first to answer. */
export function sortInbox(rows: InboxRow[]): InboxRow[] {
  return [...rows].sort((a, b) => a.openedAt.localeCompare(b.openedAt) || a.pr - b.pr);
}

export function formatInbox(rows: readonly InboxRow[], out: Output): string {
  if (rows.length === 0) return out.tty ? "nothing waits for your approval\n" : "";
  return out.table(
    rows.map((r) => {
      const needs = r.missing.map((g) => (r.mine.includes(g) ? `${g} (you)` : g)).join(", ");
      return [out.tty ? `#${r.pr}` : String(r.pr), `${r.age} old`, r.requester, { text: `${r.resource}/${r.role} for ${r.duration}${r.breakGlass ? " BREAK-GLASS" : ""}`, style: r.breakGlass ? "red" : undefined }, `needs ${needs}`, r.url];
    }),
  );
}

/**
 * `jit inbox`: the open request PRs against the default branch, each loaded and judged as the app
 * does, keeping those that wait for me. Memberships (mine and reviewers') are looked up with the
 * app's own lazy lookup and shared across requests, so each (team, login) costs one read. The
 * app's loader takes the trusted app by id: a slug is turned into its id first (one read).
 */
export async function inbox(ctx: CliEnv, o: { repo?: string }, now: Date): Promise<InboxRow[]> {
  const app = trustedAppFrom(ctx);
  const gh = githubFrom(ctx);
  const ref = repoFrom(ctx, o.repo);
  const { data: me } = await onGitHub("reading the signed-in user", () => gh.rest.users.getAuthenticated());
  const appId = app.id ?? (await onGitHub(`reading the GitHub App ${app.slug}`, () => gh.rest.apps.getBySlug({ app_slug: app.slug! }))).data?.id;
  // Never undefined past here: the app's loader would read it as "any app".
  if (appId === undefined) throw new CliError(`GitHub knows no App ${app.slug}: pass --app-id or --app-slug`, EXIT.github);
  const { data: repository } = await onGitHub(`reading ${ref.owner}/${ref.repo}`, () => gh.rest.repos.get({ owner: ref.owner, repo: ref.repo }));
  const open = await onGitHub("listing open pull requests", () =>
    gh.paginate(gh.rest.pulls.list, { ...ref, state: "open", base: repository.default_branch, sort: "created", direction: "asc", per_page: 100 }),
  );
  const memberships = new Map<string, boolean>();
  const teamLists = new Map<string, TeamMembers>();
  const rows: InboxRow[] = [];
  for (const pr of open) {
    // A request's requester is its author (a rule of every grant): my own need not be read at all.
    if (pr.user?.login.toLowerCase() === me.login.toLowerCase()) continue;
    const snapshot = await onGitHub(`reading #${pr.number}`, () => loadRequestSnapshot(gh, { ...ref, number: pr.number }, { appId, now, contributors: "always" }));
    if (!snapshot || snapshot.kind.kind !== "request") continue;
    snapshot.memberships = memberships;
    const lookup = (team: string, login: string) => memberships.get(membershipKey(team, login));
    await onGitHub(`reading team memberships for #${pr.number}`, () => resolveMemberships(gh, snapshot, (l) => inboxEntry(snapshot, me.login, now, l), teamLists));
    const row = inboxEntry(snapshot, me.login, now, lookup);
    if (row) rows.push(row);
  }
  return sortInbox(rows);
}
