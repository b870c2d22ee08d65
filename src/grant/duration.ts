/**
 * Durations as people write them in grant and policy files: `30m`, `2h`, `1h30m`, `1d`.
 * Units d, h, m, each at most once and in that order. The schema checks the shape with
 * DURATION_PATTERN; parseDuration turns it into milliseconds.
 */
export const DURATION_PATTERN = "^(?=[0-9])(?:([0-9]{1,4})d)?(?:([0-9]{1,5})h)?(?:([0-9]{1,6})m)?$";

const durationRegExp = new RegExp(DURATION_PATTERN);
const MINUTE = 60_000;

/** Milliseconds, or undefined when the text is not a duration. `0m` parses (to 0): callers decide if zero is allowed. */
export function parseDuration(text: string): number | undefined {
  const match = durationRegExp.exec(text);
  if (!match) return undefined;
  const [, d = "0", h = "0", m = "0"] = match;
  return ((Number(d) * 24 + Number(h)) * 60 + Number(m)) * MINUTE;
}

/** The shortest canonical form: 90 minutes → `1h30m`. */
export function formatDuration(ms: number): string {
  let minutes = Math.round(ms / MINUTE);
  if (minutes <= 0) return "0m";
  const days = Math.floor(minutes / 1440);
  minutes -= days * 1440;
  const hours = Math.floor(minutes / 60);
  minutes -= hours * 60;
  return `${days ? `${days}d` : ""}${hours ? `${hours}h` : ""}${minutes ? `${minutes}m` : ""}`;
}
