import Table from "cli-table3";

/**
 * What the CLI prints comes largely from others: PR titles, reasons, logins, branch names, the
 * record's texts. A terminal obeys control characters in them (ESC sequences can retitle the
 * window, hide text, fake links or clear the screen; bidi overrides make text read differently
 * from what it is), so each is shown as a visible `\uXXXX` instead: nothing is hidden or dropped.
 *
 * strip-ansi is not used: it deletes ANSI sequences, which hides what someone tried, and it
 * leaves the other controls (C1, bidi overrides) alone. Escaping every control character makes
 * the sequences inert and visible in one rule.
 */

/**
 * C0 and DEL, C1, the bidi embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069)
 * and marks (U+200E, U+200F, U+061C), and the Unicode line and paragraph separators.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_BUT_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const visible = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** One cell or field: every control character escaped, tabs and newlines too (they would break the layout). */
export function escapeField(text: string): string {
  return text.replace(CONTROL, visible);
}

/** Free text of several lines (messages, reports): newlines and tabs stay, everything else is escaped. */
export function escapeText(text: string): string {
  return text.replace(CONTROL_BUT_LAYOUT, visible);
}

/**
 * JSON whose strings carry no character a terminal obeys: JSON.stringify escapes C0 only, the
 * rest become `\uXXXX` escapes here, which parse back to the very same strings.
 */
export function safeJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, visible)}\n`;
}

/** gh's look: no borders, two spaces between columns. */
const BORDERLESS = { top: "", "top-mid": "", "top-left": "", "top-right": "", bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "", left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "  " };

export type Style = "green" | "yellow" | "red" | "bold" | "dim";
const SGR: Record<Style, [number, number]> = { green: [32, 39], yellow: [33, 39], red: [31, 39], bold: [1, 22], dim: [2, 22] };

export type Cell = string | { text: string; style?: Style | undefined };

export interface Output {
  /** Standard output is a terminal: aligned columns and, unless NO_COLOR is set, colour. */
  tty: boolean;
  color: boolean;
  /**
   * Rows as columns: on a terminal aligned by cli-table3 with two spaces between columns (the
   * last not padded), in a pipe tab-separated with no padding, so `cut -f` and `awk -F'\t'` read
   * them. Every cell is escaped either way; colour does not count towards the widths.
   */
  table(rows: readonly (readonly Cell[])[]): string;
  /** A line of free text for either stream, escaped. */
  text(text: string): string;
  paint(text: string, style: Style | undefined): string;
}

export function output(options: { isTTY?: boolean | undefined; env: Readonly<Record<string, string | undefined>> }): Output {
  const tty = options.isTTY === true;
  // https://no-color.org: a NO_COLOR that is present and not empty turns colour off, and wins.
  // FORCE_COLOR (not empty, not 0 or false) asks for colour where it would be off: a pipe into
  // `less -R`. The layout stays the pipe's, tab-separated.
  const forced = /^(?!0$|false$)./i.test(options.env.FORCE_COLOR ?? "");
  const color = (tty || forced) && !options.env.NO_COLOR;
  const paint = (text: string, style: Style | undefined) => (color && style ? `\u001b[${SGR[style][0]}m${text}\u001b[${SGR[style][1]}m` : text);
  return {
    tty,
    color,
    paint,
    text: escapeText,
    table(rows) {
      const cells = rows.map((row) => row.map((c) => (typeof c === "string" ? { text: escapeField(c) } : { text: escapeField(c.text), style: c.style })));
      if (!tty) return cells.map((row) => `${row.map((c) => paint(c.text, c.style)).join("\t")}\n`).join("");
      if (cells.length === 0) return "";
      // cli-table3 measures display width (string-width: wide CJK characters count two columns,
      // colour codes none), so colour goes in before and the columns still line up.
      const table = new Table({ chars: BORDERLESS, style: { head: [], border: [], "padding-left": 0, "padding-right": 0, compact: true } });
      table.push(...cells.map((row) => row.map((c) => paint(c.text, c.style))));
      return `${table
        .toString()
        .split("\n")
        .map((line) => line.trimEnd())
        .join("\n")}\n`;
    },
  };
}
