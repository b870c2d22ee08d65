/**
 * RFC 3339 date-times (§5.6) as grant files write them.
 *
 * `Date.parse` is not used for them: it gives NaN for a leap second (`23:59:60`), which JSON
 * Schema's `date-time` accepts, and it accepts forms RFC 3339 does not (`+01`, no zone) or
 * refuses ones it does, depending on the engine. A NaN that reached the lifecycle made a merged
 * grant fail on every retry. So the grant schema accepts exactly TIMESTAMP_PATTERN (together with
 * the `date-time` format, which checks the calendar), and parseTimestamp reads every value that
 * passes both — a test holds the two together.
 *
 * - `T` or `t` between date and time, or a space (RFC 3339 §5.6 allows it "for readability").
 * - `Z`, `z` or `±hh:mm`; `-00:00` ("offset unknown") is UTC.
 * - Any number of fraction digits, rounded *up* to the millisecond: a start never moves earlier.
 * - A leap second (`23:59:60` in UTC) is read as the next second, `00:00:00` of the next day.
 *   JavaScript time, like POSIX time, has no leap seconds; the next second is the earliest instant
 *   that is not before the one written, so a grant never starts before its approved start.
 */
export const TIMESTAMP_PATTERN =
  "^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$";

const SHAPE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MINUTE = 60_000;

const isLeapYear = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

/** Milliseconds since the epoch, or undefined when the text is not an RFC 3339 date-time. */
export function parseTimestamp(text: string): number | undefined {
  const m = SHAPE.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1];
  if (daysInMonth === undefined || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 60) return undefined;
  const offsetHours = Number(m[9] ?? 0);
  const offsetMinutes = Number(m[10] ?? 0);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offset = (m[8] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * MINUTE;

  // Date.UTC reads years 0-99 as 1900-1999; setUTCFullYear does not.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const minuteStart = date.getTime() + (hour * 60 + minute) * MINUTE - offset;
  if (second === 60) {
    // Only the last minute of a UTC day can hold a leap second.
    const utcMinuteOfDay = (((minuteStart / MINUTE) % 1440) + 1440) % 1440;
    return utcMinuteOfDay === 1439 ? minuteStart + MINUTE : undefined;
  }
  return minuteStart + second * 1000 + fractionMs(m[7]);
}

/** `.123456789` → 124: the first three digits, plus one when any later digit is not zero. */
function fractionMs(digits: string | undefined): number {
  if (!digits) return 0;
  const ms = Number(digits.slice(0, 3).padEnd(3, "0"));
  return /[1-9]/.test(digits.slice(3)) ? ms + 1 : ms;
}
