import { execFileSync } from "node:child_process";
import { stringify } from "csv-stringify/sync";
import { parse } from "yaml";
import type { GitHub, RepoRef } from "../github/client.js";
import type { CommentState } from "../lifecycle/codec.js";
import { parseGrantPath } from "../policy/paths.js";
import { onGitHub, type TrustedApp } from "./context.js";
import { readRecord } from "./record.js";
import { safeJson, type Output } from "./terminal.js";

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
  /**
   * The trusted app's record of the request was read and backs every `Jit-*` trailer of the merge.
   * Anyone who can push or merge can write a commit message, so a trailer alone proves nothing.
   */
  verified: boolean;
  /** The trailers (`Jit-Approved-By: mallory`) that no record backs: all of them until one is read. */
  unverified: string[];
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
  const claims = CLAIMS.flatMap(([key, name]) => (trailers.get(key) ?? []).map((v) => `${name}: ${v}`));
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
    verified: false,
    unverified: claims,
  };
}

/** The trailers that say who asked and who approved: each is checked against the record. */
const CLAIMS = [
  ["jit-requester", "Jit-Requester"],
  ["jit-approved-by", "Jit-Approved-By"],
  ["jit-auto-approved-by", "Jit-Auto-Approved-By"],
] as const;

/** Statuses of a request that was approved (the record names no group for an auto-approval, only that it was approved). */
const APPROVED = new Set(["SCHEDULED", "APPLYING", "APPROVED", "EXECUTED", "REVOKED"]);

/**
 * Pure: a grant's life as its record tells it. The record decides the requester, the approvers,
 * the window and the end; each trailer claim it does not back stays in `unverified`, and the life
 * is `verified` only with a record and no such claim. Without a record nothing is verified.
 */
export function withRecord(life: GrantLife, st: CommentState | undefined): GrantLife {
  if (!st) return { ...life, verified: false };
  const same = (a: string, b: string | undefined) => b !== undefined && a.toLowerCase() === b.toLowerCase();
  const approvers = st.approvers ?? [];
  const unverified = life.unverified.filter((claim) => {
    const [name, value = ""] = claim.split(/: (.*)/s);
    if (name === "Jit-Requester") return !same(value, st.grant?.requester);
    if (name === "Jit-Approved-By") return !approvers.some((a) => same(value, a));
    return !APPROVED.has(st.status ?? "");
  });
  const auto = life.approvers.filter((a) => a.endsWith(" (auto)") && APPROVED.has(st.status ?? ""));
  return {
    ...life,
    requester: st.grant?.requester ?? life.requester,
    approvers: [...approvers, ...auto],
    applied: st.applied_at ?? life.applied,
    expires: st.expires_at ?? life.expires,
    ended: st.revoked_at ?? life.ended,
    outcome: st.status === "EXECUTED" ? "expired" : st.status === "REVOKED" ? "revoked" : st.status === "REJECTED" ? "rejected" : life.outcome,
    revertPr: st.revert_pr ?? life.revertPr,
    endedBy: st.ended_by ?? life.endedBy,
    verified: unverified.length === 0,
    unverified,
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

/**
 * With a token: each grant checked against its record (window, end, who asked and approved), and
 * the requests rejected before they were merged. A merge that names no PR has no record to read.
 */
export async function enrichFromPullRequests(gh: GitHub, ref: RepoRef, lives: GrantLife[], app: TrustedApp): Promise<GrantLife[]> {
  const out: GrantLife[] = [];
  for (const life of lives) {
    const pr = life.pr;
    if (pr === null) {
      out.push(life);
      continue;
    }
    out.push(withRecord(life, await onGitHub(`reading the record of #${pr}`, () => readRecord(gh, { ...ref, number: pr }, app))));
  }
  const q = `is:pr is:closed is:unmerged label:"jit:rejected" repo:${ref.owner}/${ref.repo}`;
  const rejected = await onGitHub("searching rejected requests", () => gh.paginate(gh.rest.search.issuesAndPullRequests, { q, per_page: 100 }));
  for (const item of rejected) {
    const st = await onGitHub(`reading the record of #${item.number}`, () => readRecord(gh, { ...ref, number: item.number }, app));
    // The label is anyone's to add: without the app's record of a rejection, the request is not listed.
    if (st?.status !== "REJECTED") continue;
    out.push({
      path: st.path ?? "", pr: item.number, requester: st.grant?.requester ?? item.user?.login ?? "?", resource: st.grant?.resource ?? "?",
      role: st.grant?.role ?? "?", duration: st.grant?.duration ?? "?", approvers: [], breakGlass: st.grant?.emergency === true,
      reason: st.grant?.reason ?? "", ticket: st.grant?.ticket ?? null, start: st.grant?.start ?? null,
      merged: null, applied: null, expires: null, ended: item.closed_at ?? null, outcome: "rejected", revertPr: null, endedBy: st.ended_by ?? null,
      verified: true, unverified: [],
    });
  }
  return out;
}

const COLUMNS: (keyof GrantLife)[] = ["pr", "requester", "resource", "role", "duration", "approvers", "breakGlass", "merged", "applied", "expires", "ended", "outcome", "verified", "path"];

export function formatAudit(lives: readonly GrantLife[], format: "table" | "json" | "csv", out: Output): string {
  if (format === "json") return safeJson(lives);
  const cell = (life: GrantLife, key: keyof GrantLife) => {
    const v = life[key];
    return Array.isArray(v) ? v.join(" ") : v === null ? "" : String(v);
  };
  if (format === "csv") {
    // A spreadsheet runs a cell that starts with = + - @ (or a tab or CR before one) as a formula:
    // escape_formulas prefixes such cells with a quote, so a reason or login is shown, never run.
    return stringify([COLUMNS, ...lives.map((l) => COLUMNS.map((k) => cell(l, k)))], { escape_formulas: true, record_delimiter: "unix" });
  }
  const shown: (keyof GrantLife)[] = ["pr", "requester", "resource", "role", "duration", "approvers", "merged", "ended", "outcome", "verified"];
  return out.table([
    shown.map(String),
    ...lives.map((l) => shown.map((k) => (k === "pr" && l.pr !== null && out.tty ? `#${l.pr}` : k === "verified" ? { text: cell(l, k), style: l.verified ? undefined : ("red" as const) } : cell(l, k)))),
  ]);
}

/** One stderr line per grant whose trailers no record backs; without a token, one line for all. */
export function auditWarnings(lives: readonly GrantLife[], offline: boolean): string[] {
  const unverified = lives.filter((l) => !l.verified);
  if (unverified.length === 0) return [];
  if (offline) {
    return [`warning: ${unverified.length} grant(s) shown from git history alone, unverified: set GH_TOKEN to check their Jit-* trailers against jit-access's records`];
  }
  return unverified.map((l) => {
    const which = l.pr === null ? l.path : `#${l.pr}`;
    return l.unverified.length ? `warning: ${which}: not backed by jit-access's record: ${l.unverified.join(", ")}` : `warning: ${which}: jit-access has no record of it`;
  });
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
