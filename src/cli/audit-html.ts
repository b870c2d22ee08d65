import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import Mustache from "mustache";
import { formatDuration } from "../grant/duration.js";
import type { GrantLife } from "./audit.js";
import { lanesBy, percentAt, pointOf, spanOf, summarize, ticksOf, timeGrant, type Span, type TimedGrant } from "./audit-timeline.js";

/**
 * `jit audit --format html`: one self-contained page (inline CSS, SVG and a small filter script;
 * nothing fetched) with the timeline, the summary figures and the table. Pure: grant lives in,
 * HTML out; the page's text lives in templates/audit-report.*, read once.
 *
 * Every piece of user text (names, reasons, tickets) reaches the page only through mustache's
 * `{{…}}`, which HTML-escapes it; the only raw inserts are this project's own CSS and script. A
 * Content-Security-Policy allows exactly those two (by hash) and no fetches at all, a second line
 * of defence should escaping ever be bypassed.
 */
export interface AuditPage {
  /** What the page is about, e.g. `acme/access`. */
  title: string;
  /** When the report was made: the timeline runs live grants up to it. */
  now: Date;
  /** `https://github.com/acme/access`: where `#N` links point; without it PRs are plain numbers. */
  repoUrl?: string;
}

const DIR = new URL("../../templates/", import.meta.url);
let assets: { template: string; css: string; script: string } | undefined;
function loadAssets() {
  assets ??= {
    template: readFileSync(new URL("audit-report.html.mustache", DIR), "utf8"),
    css: readFileSync(new URL("audit-report.css", DIR), "utf8"),
    script: readFileSync(new URL("audit-report.js", DIR), "utf8"),
  };
  return assets;
}

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/** Seconds where minutes would round to nothing (a late revoke is seconds). */
export function humanDuration(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1000)}s` : formatDuration(ms);
}

const utc = (t: number | null) => (t === null ? "" : new Date(t).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, ""));
const round = (n: number) => Math.round(n * 1000) / 1000;

export function renderAuditHtml(lives: readonly GrantLife[], page: AuditPage): string {
  const { template, css, script } = loadAssets();
  const grants = lives.map((life, i) => timeGrant(life, i + 1, page.now));
  const span = spanOf(grants, page.now);
  const summary = summarize(grants);
  const prLink = (n: number | null) => (n === null ? null : { text: `#${n}`, ...(page.repoUrl ? { url: `${page.repoUrl}/pull/${n}` } : {}) });
  const nowX = percentAt(span, page.now.getTime());
  const view = {
    title: page.title,
    generated: utc(page.now.getTime()),
    csp: `default-src 'none'; style-src ${sha256(css)}; script-src ${sha256(script)}; base-uri 'none'; form-action 'none'`,
    css,
    script,
    summary: [
      { label: "grants", value: String(summary.grants) },
      { label: "people", value: String(summary.people) },
      { label: "break-glass grants", value: String(summary.breakGlass), loud: summary.breakGlass > 0 },
      { label: "median duration (ended grants)", value: summary.medianDurationMs === null ? "–" : humanDuration(summary.medianDurationMs) },
      { label: `late revokes (> ${5} s)`, value: String(summary.lateRevokes), loud: summary.lateRevokes > 0 },
      { label: "early revokes", value: String(summary.earlyRevokes) },
      { label: "live now", value: String(summary.live) },
      { label: "never granted", value: String(summary.neverGranted) },
    ],
    people: [...new Set(lives.map((l) => l.requester))].sort((a, b) => a.localeCompare(b)),
    resources: [...new Set(lives.map((l) => l.resource))].sort((a, b) => a.localeCompare(b)),
    total: grants.length,
    empty: grants.length === 0,
    ticks: ticksOf(span).map((t) => ({ x: round(percentAt(span, t.at)), label: t.label })),
    now: nowX >= 0 && nowX <= 100 ? { x: round(nowX) } : null,
    timelines: (["person", "resource"] as const).map((by) => ({
      by,
      lanes: lanesBy(grants, by).map((lane) => ({
        key: lane.key,
        height: lane.rows.length * ROW + 2 * PAD,
        items: lane.rows.flatMap((row, r) => row.map((g) => itemView(g, span, PAD + r * ROW))),
      })),
    })),
    rows: grants.map((g) => ({
      index: g.index,
      cls: rowClass(g),
      person: g.life.requester,
      resource: g.life.resource,
      from: pointOf(g) ?? "",
      to: g.barEnd ?? g.plannedEnd ?? pointOf(g) ?? "",
      pr: prLink(g.life.pr),
      revert: prLink(g.life.revertPr),
      requester: g.life.requester,
      role: g.life.role,
      duration: g.life.duration,
      breakGlass: g.life.breakGlass,
      approvers: g.life.approvers.join(", "),
      reason: g.life.reason,
      ticket: g.life.ticket ?? "",
      start: utc(g.start),
      end: g.live ? "live" : utc(g.actualEnd),
      planned: g.plannedDiffers ? utc(g.plannedEnd) : "",
      ending: endingOf(g),
    })),
  };
  return Mustache.render(template, view);
}

const ROW = 22;
const PAD = 6;
const BAR_H = 14;
/** A bar is never thinner than this (percent), so a minute-long grant in a month-long view still shows. */
const MIN_WIDTH = 0.4;

function itemView(g: TimedGrant, span: Span, y: number) {
  const at = (t: number) => round(percentAt(span, t));
  const base = {
    index: g.index, person: g.life.requester, resource: g.life.resource, from: pointOf(g) ?? 0, to: g.barEnd ?? g.plannedEnd ?? pointOf(g) ?? 0,
    tooltip: tooltipOf(g), cls: rowClass(g), y, top: y - 3, bottom: y + BAR_H + 3, mid: y + BAR_H / 2, text: y + BAR_H - 3,
  };
  if (g.start === null || g.barEnd === null) {
    const point = pointOf(g);
    return { ...base, mark: point === null ? null : { x: at(point) } };
  }
  const x = at(g.start);
  const w = Math.max(MIN_WIDTH, at(g.barEnd) - x);
  return {
    ...base,
    bar: { x, w: round(w), h: BAR_H },
    // An early revoke leaves the unused rest of the window as a dashed outline.
    ghost: g.early && g.plannedEnd !== null ? { x: round(x + w), w: round(Math.max(0, at(g.plannedEnd) - x - w)), h: BAR_H } : null,
    planned: g.plannedDiffers && g.plannedEnd !== null ? { x: at(g.plannedEnd) } : null,
    late: g.lateByMs !== null ? { x: round(x + w), label: `+${humanDuration(g.lateByMs)}` } : null,
    // Break-glass is named in red beside its bar: before it where there is room, else after it.
    loud: g.life.breakGlass ? (x > 14 ? { x: round(x - 0.4), anchor: "end", dx: 0 } : { x: round(x + w + 0.4), anchor: "start", dx: g.lateByMs !== null ? 48 : 0 }) : null,
  };
}

function rowClass(g: TimedGrant): string {
  return [
    g.neverGranted ? "never" : g.live ? "live" : g.early ? "early" : g.life.outcome === "expired" ? "expired" : "ended",
    g.life.breakGlass ? "break-glass" : "",
    g.lateByMs !== null || g.overdueByMs !== null ? "late" : "",
  ].filter(Boolean).join(" ");
}

function endingOf(g: TimedGrant): string {
  const by = g.life.endedBy ? ` — ${g.life.endedBy}` : "";
  if (g.neverGranted) return `rejected, never granted${by}`;
  if (g.overdueByMs !== null) return `live by the record, ${humanDuration(g.overdueByMs)} past its planned end: no end recorded yet`;
  if (g.live) return g.plannedEnd !== null ? `live, until ${utc(g.plannedEnd)} UTC` : "live";
  const late = g.lateByMs !== null ? `, revoked ${humanDuration(g.lateByMs)} late` : "";
  if (g.early && g.plannedEnd !== null && g.actualEnd !== null) return `${g.life.outcome} early, ${humanDuration(g.plannedEnd - g.actualEnd)} before its planned end${by}`;
  return `${g.life.outcome}${late}${by}`;
}

function tooltipOf(g: TimedGrant): string {
  const what = `${g.life.requester} · ${g.life.resource}/${g.life.role} for ${g.life.duration}${g.life.breakGlass ? " · BREAK-GLASS" : ""}`;
  const when = g.start === null ? "" : ` · ${utc(g.start)} → ${g.live ? "now" : utc(g.actualEnd)} UTC`;
  return `${g.life.pr === null ? "" : `#${g.life.pr} · `}${what}${when} · ${endingOf(g)}`;
}
