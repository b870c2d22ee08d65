import { parseDuration } from "../grant/duration.js";
import type { GrantLife } from "./audit.js";

/**
 * The audit timeline as plain data: when each grant gave access, when it was meant to end and how
 * it did, grouped into lanes. Pure: grant lives and the report's clock in, numbers out; the HTML
 * renderer only places them.
 */

/** A revoke later than this after the planned end is late (the app's promise is seconds). */
export const LATE_AFTER_MS = 5_000;

export interface TimedGrant {
  life: GrantLife;
  /** Position in the report: anchors (`grant-N`) and data attributes use it. */
  index: number;
  /** When access began: applied, else the later of merge and requested start. Null: never given. */
  start: number | null;
  /** When access was meant to end: the recorded `expires_at`, else start + duration. */
  plannedEnd: number | null;
  /** When it ended (revoked at the target, else the revert's merge); null while live. */
  actualEnd: number | null;
  /** Where the bar stops: the actual end, or the report's time for a live grant. */
  barEnd: number | null;
  live: boolean;
  /** Ended before its planned end (by `/jit revoke` or a deletion). */
  early: boolean;
  /** Ended more than LATE_AFTER_MS after its planned end; by how much. */
  lateByMs: number | null;
  /** Access never given: rejected before or at merge. */
  neverGranted: boolean;
  /** The planned end is worth a mark of its own: the bar does not stop there. */
  plannedDiffers: boolean;
  /** Live by the record, yet past its planned end by more than LATE_AFTER_MS: by how much. */
  overdueByMs: number | null;
}

const ms = (iso: string | null): number | null => {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
};

export function timeGrant(life: GrantLife, index: number, now: Date): TimedGrant {
  const neverGranted = life.outcome === "rejected";
  const merged = ms(life.merged);
  const requested = ms(life.start);
  const start = neverGranted ? null : (ms(life.applied) ?? (merged !== null && requested !== null ? Math.max(merged, requested) : merged));
  const duration = parseDuration(life.duration);
  const plannedEnd = start === null ? null : (ms(life.expires) ?? (duration === undefined ? null : start + duration));
  const actualEnd = start === null ? null : ms(life.ended);
  const live = start !== null && actualEnd === null && life.outcome === "live";
  const barEnd = start === null ? null : (actualEnd ?? (live ? Math.max(start, now.getTime()) : null));
  const early = actualEnd !== null && plannedEnd !== null && actualEnd < plannedEnd - LATE_AFTER_MS;
  const late = actualEnd !== null && plannedEnd !== null ? actualEnd - plannedEnd : null;
  return {
    life,
    index,
    start,
    plannedEnd,
    actualEnd,
    barEnd,
    live,
    early,
    lateByMs: late !== null && late > LATE_AFTER_MS ? late : null,
    neverGranted,
    plannedDiffers: plannedEnd !== null && barEnd !== null && Math.abs(plannedEnd - barEnd) > LATE_AFTER_MS,
    overdueByMs: live && plannedEnd !== null && now.getTime() - plannedEnd > LATE_AFTER_MS ? now.getTime() - plannedEnd : null,
  };
}

export interface Summary {
  grants: number;
  people: number;
  breakGlass: number;
  /** Median time with access, of the grants that have ended; null when none has. */
  medianDurationMs: number | null;
  lateRevokes: number;
  earlyRevokes: number;
  live: number;
  neverGranted: number;
}

export function summarize(grants: readonly TimedGrant[]): Summary {
  const durations = grants
    .filter((g) => g.start !== null && g.actualEnd !== null)
    .map((g) => g.actualEnd! - g.start!)
    .sort((a, b) => a - b);
  return {
    grants: grants.length,
    people: new Set(grants.map((g) => g.life.requester.toLowerCase())).size,
    breakGlass: grants.filter((g) => g.life.breakGlass).length,
    medianDurationMs: median(durations),
    lateRevokes: grants.filter((g) => g.lateByMs !== null).length,
    earlyRevokes: grants.filter((g) => g.early).length,
    live: grants.filter((g) => g.live).length,
    neverGranted: grants.filter((g) => g.neverGranted).length,
  };
}

function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Lane {
  key: string;
  /** Grants in stacked rows: grants of one lane that overlap in time go on separate rows. */
  rows: TimedGrant[][];
}

/** One lane per person or per resource, in name order; overlapping grants stacked, first fit. */
export function lanesBy(grants: readonly TimedGrant[], by: "person" | "resource"): Lane[] {
  const groups = new Map<string, TimedGrant[]>();
  for (const g of grants) {
    const key = by === "person" ? g.life.requester : g.life.resource;
    groups.set(key, [...(groups.get(key) ?? []), g]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, members]) => {
      const rows: TimedGrant[][] = [];
      const ends: number[] = [];
      for (const g of [...members].sort((a, b) => (pointOf(a) ?? 0) - (pointOf(b) ?? 0))) {
        const from = pointOf(g) ?? 0;
        const to = Math.max(g.barEnd ?? from, g.plannedEnd ?? from);
        const row = ends.findIndex((end) => end <= from);
        if (row < 0) {
          rows.push([g]);
          ends.push(to);
        } else {
          rows[row]!.push(g);
          ends[row] = to;
        }
      }
      return { key, rows };
    });
}

/** Where a grant sits on the time axis: its start, or for one never granted, when it was decided. */
export function pointOf(g: TimedGrant): number | null {
  return g.start ?? ms(g.life.ended) ?? ms(g.life.merged);
}

export interface Span {
  from: number;
  to: number;
}

/** The time the timeline covers: every start, end and planned end, with a little room either side. */
export function spanOf(grants: readonly TimedGrant[], now: Date): Span {
  const times = grants.flatMap((g) => [pointOf(g), g.barEnd, g.plannedEnd]).filter((t): t is number => t !== null);
  if (times.length === 0) return { from: now.getTime() - 86_400_000, to: now.getTime() };
  const from = Math.min(...times);
  const to = Math.max(...times);
  const pad = Math.max((to - from) * 0.02, 60_000);
  return { from: from - pad, to: to + pad };
}

/** A position on the axis, in percent of its width. */
export function percentAt(span: Span, t: number): number {
  return ((t - span.from) / (span.to - span.from)) * 100;
}

const HOUR = 3_600_000;
const STEPS = [HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 48 * HOUR, 7 * 24 * HOUR, 14 * 24 * HOUR, 28 * 24 * HOUR];

/** Axis ticks on whole UTC hours or days, at most about eight of them. */
export function ticksOf(span: Span): { at: number; label: string }[] {
  const step = STEPS.find((s) => (span.to - span.from) / s <= 8) ?? STEPS[STEPS.length - 1]!;
  const first = Math.ceil(span.from / step) * step;
  const out: { at: number; label: string }[] = [];
  for (let t = first; t <= span.to; t += step) {
    const iso = new Date(t).toISOString();
    out.push({ at: t, label: step >= 24 * HOUR ? iso.slice(0, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}` });
  }
  return out;
}
