import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { fromMarkdown } from "mdast-util-from-markdown";
import { gfmFromMarkdown } from "mdast-util-gfm";
import { gfm } from "micromark-extension-gfm";
import { escapeMarkdown } from "../../src/present/render.js";

/**
 * The escaper is checked by a real GFM parser (micromark, as CommonMark + GitHub's tables,
 * strikethrough, autolinks and task lists): whatever a requester types, the places our templates
 * put it in parse to plain text that reads as typed, and never to a link, image, HTML, emphasis,
 * code, heading, list, quote or an extra table cell.
 */
interface Node {
  type: string;
  value?: string;
  url?: string;
  children?: Node[];
}
const parse = (md: string) => fromMarkdown(md, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] }) as Node;
const textOf = (n: Node): string => n.value ?? (n.children ?? []).map(textOf).join("");
const squash = (s: string) => s.replace(/\s+/g, " ").trim();

/** Node types other than text that a value produced; a literal autolink counts when its text is not its own URL. */
function constructs(n: Node, structure: Set<string>): string[] {
  const own = structure.has(n.type) || n.type === "text" ? [] : n.type === "link" && n.url !== undefined && n.url.endsWith(textOf(n).replace(/^www\./, "")) ? [] : [n.type];
  return [...own, ...(n.children ?? []).flatMap((c) => constructs(c, structure))];
}

/** Where templates/ and present/ put escaped values: a list item's start, a table cell, mid-sentence. */
const PLACES: [string, (v: string) => string, string[]][] = [
  ["a list item's start", (v) => `- ${v}: said so\n`, ["root", "list", "listItem", "paragraph"]],
  ["a table cell", (v) => `| Field | Value |\n|---|---|\n| Reason | ${v} |\n`, ["root", "table", "tableRow", "tableCell"]],
  ["a sentence", (v) => `Reverts #7: it was ${v}, so nothing was granted.\n`, ["root", "paragraph"]],
];
const expectedText = (v: string) => squash(v.replace(/[\r\n\t]+/g, " ").replace(/@/g, "@\u200b"));

describe("escapeMarkdown", () => {
  it("leaves ordinary text as typed: no escapes in tickets, dates, versions, durations", () => {
    expect(escapeMarkdown("Investigate INC-4211: slow checkout queries (v1.2, 2026-11-29, 1h30m).")).toBe("Investigate INC-4211: slow checkout queries (v1.2, 2026-11-29, 1h30m).");
  });

  it("breaks mentions, links, HTML, table cells, emphasis and code", () => {
    expect(escapeMarkdown("ping @acme/everyone [here](https://evil.example) <img src=x> a|b *x* `c`")).toBe(
      "ping @\u200bacme/everyone \\[here\\](https://evil.example) \\<img src=x\\> a\\|b \\*x\\* \\`c\\`",
    );
  });

  it("escapes what starts a block only at the start: lists, headings, quotes, setext lines", () => {
    expect(["- x", "+ x", "1. x", "12) x", "# x", "> x", "=== x", "a - b 1. c"].map(escapeMarkdown)).toEqual(["\\- x", "\\+ x", "1\\. x", "12\\) x", "\\# x", "\\> x", "\\=== x", "a - b 1. c"]);
  });

  const hostile = fc.string({ unit: fc.constantFrom(..."\\`*_~[]()<>!&|#@:/.-+=$^\"'{}; \n\t\rabw1wwhttps".split("")), maxLength: 40 });
  for (const [where, place, structure] of PLACES) {
    it(`in ${where}, any text parses to plain text that reads as typed`, () => {
      fc.assert(
        fc.property(hostile, (value) => {
          const tree = parse(place(escapeMarkdown(value)));
          expect(constructs(tree, new Set(structure))).toEqual([]);
          expect(squash(textOf(tree))).toContain(expectedText(value));
        }),
        { numRuns: 400 },
      );
    });
  }

  it("a table row keeps its two cells whatever the value holds", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."|\\`a \n".split("")), maxLength: 20 }), (value) => {
        const tree = parse(`| Field | Value |\n|---|---|\n| Reason | ${escapeMarkdown(value)} |\n`);
        const row = tree.children![0]!.children![1]!;
        expect(row.children).toHaveLength(2);
      }),
    );
  });
});
