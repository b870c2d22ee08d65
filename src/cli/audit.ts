import { execFileSync } from "node:child_process";
import { parse } from "yaml";
import type { GitHub, RepoRef } from "../github/client.js";
import { readStatusState } from "../github/snapshot.js";
import { parseGrantPath } from "../policy/paths.js";

/** One grant's life, as an auditor reads it. */
export interface GrantLife {
  path: string;
  pr: number | null;
  requester: string;
  resource: string;
  role: string;
  duration: string;
  approvers: string[];
  breakGlass: boolean;
  /** Why, and the ticket, as the grant file says (empty where it cannot be read). */
  reason: string;
  ticket: string | null;
  /** The requested start (the grant file's `start`), when it set one. */
  start: string | null;
  /** When the request was merged (the grant file entered the default branch). */
  merged: string | null;
  applied: string | null;
  expires: string | null;
  ended: string | null;
  /** live, expired, revoked, rejected — or unknown where git history alone cannot tell. */
  outcome: string;
  /** The PR that recorded the end (the revert), and what the app wrote about the end. */
  revertPr: number | null;
  endedBy: string | null;
}

export interface GitCommit {
  hash: string;
  date: string;
  subject: string;
  body: string;
  changes: { status: string; path: string }[];
}

const RECORD = "\u001e";
const FIELD = "\u001f";

/** `git log` of grants/, oldest first: every added and deleted grant file. */
export function readGitHistory(root: string): GitCommit[] {
  const out = execFileSync("git", ["-C", root, "log", "--reverse", "--no-renames", `--format=${RECORD}%H${FIELD}%cI${FIELD}%s${FIELD}%b${FIELD}`, "--name-status", "--", "grants/"], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return parseGitLog(out);
}

export function parseGitLog(out: string): GitCommit[] {
  return out
    .split(RECORD)
    .filter((r) => r.trim())
    .map((record) => {
      const [hash = "", date = "", subject = "", body = "", rest = ""] = record.split(FIELD);
      const changes = rest
        .split("\n")
        .map((line) => /^([AMD])\t(.+)$/.exec(line.trim()))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => ({ status: m[1]!, path: m[2]! }));
      return { hash, date: new Date(date).toISOString(), subject, body, changes };
    });
}

/**
 * Every grant's life from git history alone (pure, given the history and a way to read a file
 * at a commit). The app writes what this reads: its squash merges carry `Jit-*` trailers, and the
 * revert PRs that record an end say how it ended ("expired", "revoked", "merged without meeting
 * the policy"). A grant file deleted by anything else was deleted by a person: revoked.
 */
export function auditFromHistory(commits: readonly GitCommit[], readAt: (hash: string, path: string) => string | undefined): GrantLife[] {
  const lives = new Map<string, GrantLife>();
  const done: GrantLife[] = [];
  for (const commit of commits) {
    for (const change of commit.changes) {
      if (!parseGrantPath(change.path)) continue;
      if (change.status === "A") {
        lives.set(change.path, born(commit, change.path, readAt(commit.hash, change.path)));
      } else if (change.status === "D") {
        const life = lives.get(change.path);
        if (!life) continue;
        lives.delete(change.path);
        done.push({ ...life, ended: commit.date, outcome: howEnded(commit.subject), revertPr: prOf(commit.subject) });
      }
    }
  }
  return [...done, ...lives.values()].sort((a, b) => (a.merged ?? "").localeCompare(b.merged ?? "") || a.path.localeCompare(b.path));
}

function born(commit: GitCommit, path: string, content: string | undefined): GrantLife {
  let grant: Record<string, unknown> = {};
  try {
    const value = content ? parse(content, { maxAliasCount: 0 }) : undefined;
    if (value && typeof value === "object") grant = value as Record<string, unknown>;
  } catch {
    // An unreadable file still has a life: the trailers and the path say what they can.
  }
  const trailers = trailersOf(commit.body);
  const location = parseGrantPath(path)!;
  return {
    path,
    pr: prOf(commit.subject),
    requester: String(grant.requester ?? trailers.get("jit-requester")?.[0] ?? "?"),
    resource: String(grant.resource ?? location.resource),
    role: String(grant.role ?? trailers.get("jit-access")?.[0]?.split("/")[1] ?? "?"),
    duration: String(grant.duration ?? trailers.get("jit-duration")?.[0] ?? "?"),
    approvers: [...(trailers.get("jit-approved-by") ?? []), ...(trailers.get("jit-auto-approved-by") ?? []).map((g) => `${g} (auto)`)],
    breakGlass: grant.emergency === true || trailers.has("jit-break-glass"),
    reason: typeof grant.reason === "string" ? grant.reason : "",
    ticket: grant.ticket === undefined || grant.ticket === null ? null : String(grant.ticket),
    start: startOf(grant.start),
    merged: commit.date,
    applied: null,
    expires: null,
    ended: null,
    outcome: "live",
    revertPr: null,
    endedBy: null,
  };
}

/** YAML may give a date or a string; anything that is not a date is left out. */
function startOf(value: unknown): string | null {
  const ms = value instanceof Date ? value.getTime() : typeof value === "string" ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function trailersOf(body: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of body.split("\n")) {
    const m = /^(Jit-[A-Za-z-]+):\s*(.+)$/.exec(line.trim());
    if (m) out.set(m[1]!.toLowerCase(), [...(out.get(m[1]!.toLowerCase()) ?? []), m[2]!.trim()]);
  }
  return out;
}

function prOf(subject: string): number | null {
  const m = /\(#(\d+)\)\s*$/.exec(subject);
  return m ? Number(m[1]) : null;
}

function howEnded(subject: string): string {
  if (/merged without meeting the policy/.test(subject)) return "rejected";
  if (/\bexpired\b/.test(subject)) return "expired";
  return "revoked";
}

/** With a token: the recorded window and end of each grant, and requests rejected before they were merged. */
export async function enrichFromPullRequests(gh: GitHub, ref: RepoRef, lives: GrantLife[]): Promise<GrantLife[]> {
  const out: GrantLife[] = [];
  for (const life of lives) {
    if (life.pr === null) {
      out.push(life);
      continue;
    }
    const st = await readStatusState(gh, { ...ref, number: life.pr }, undefined);
    out.push({
      ...life,
      applied: st?.applied_at ?? life.applied,
      expires: st?.expires_at ?? life.expires,
      ended: st?.revoked_at ?? life.ended,
      outcome: st?.status === "EXECUTED" ? "expired" : st?.status === "REVOKED" ? "revoked" : st?.status === "REJECTED" ? "rejected" : life.outcome,
      approvers: life.approvers.length ? life.approvers : (st?.approvers ?? []),
      revertPr: st?.revert_pr ?? life.revertPr,
      endedBy: st?.ended_by ?? life.endedBy,
    });
  }
  const q = `is:pr is:closed is:unmerged label:"jit:rejected" repo:${ref.owner}/${ref.repo}`;
  for (const item of await gh.paginate(gh.rest.search.issuesAndPullRequests, { q, per_page: 100 })) {
    const st = await readStatusState(gh, { ...ref, number: item.number }, undefined);
    out.push({
      path: st?.path ?? "", pr: item.number, requester: st?.grant?.requester ?? item.user?.login ?? "?", resource: st?.grant?.resource ?? "?",
      role: st?.grant?.role ?? "?", duration: st?.grant?.duration ?? "?", approvers: [], breakGlass: st?.grant?.emergency === true,
      reason: st?.grant?.reason ?? "", ticket: st?.grant?.ticket ?? null, start: st?.grant?.start ?? null,
      merged: null, applied: null, expires: null, ended: item.closed_at ?? null, outcome: "rejected", revertPr: null, endedBy: st?.ended_by ?? null,
    });
  }
  return out;
}

const COLUMNS: (keyof GrantLife)[] = ["pr", "requester", "resource", "role", "duration", "approvers", "breakGlass", "merged", "applied", "expires", "ended", "outcome", "path"];

export function formatAudit(lives: readonly GrantLife[], format: "table" | "json" | "csv"): string {
  if (format === "json") return `${JSON.stringify(lives, null, 2)}\n`;
  const cell = (life: GrantLife, key: keyof GrantLife) => {
    const v = life[key];
    return Array.isArray(v) ? v.join(" ") : v === null ? "" : String(v);
  };
  if (format === "csv") {
    const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return [COLUMNS.join(","), ...lives.map((l) => COLUMNS.map((k) => quote(cell(l, k))).join(","))].join("\n") + "\n";
  }
  const shown: (keyof GrantLife)[] = ["pr", "requester", "resource", "role", "duration", "approvers", "merged", "ended", "outcome"];
  const rows = [shown.map(String), ...lives.map((l) => shown.map((k) => (k === "pr" && l.pr !== null ? `#${l.pr}` : cell(l, k))))];
  const widths = shown.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n";
}

/** Reads a file at a commit from a local clone; undefined when it cannot. */
export function gitShow(root: string): (hash: string, path: string) => string | undefined {
  return (hash, path) => {
    try {
      return execFileSync("git", ["-C", root, "show", `${hash}:${path}`], { encoding: "utf8", maxBuffer: 1024 * 1024, stdio: ["ignore", "pipe", "ignore"] });
    } catch {
      return undefined;
    }
  };
}
