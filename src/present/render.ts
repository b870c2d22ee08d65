import { readFileSync } from "node:fs";
import Mustache from "mustache";

/**
 * Text that people read on GitHub (status comment, check summary) comes from templates/ and
 * is rendered with mustache. Every `{{value}}` is escaped for Markdown, so a reason or ticket
 * cannot inject links, HTML, tables or @-mentions; `{{{value}}}` is for text we built ourselves.
 */
const cache = new Map<string, string>();
const TEMPLATES = new URL("../../templates/", import.meta.url);

export function renderTemplate(name: string, view: object): string {
  let template = cache.get(name);
  if (template === undefined) {
    template = readFileSync(new URL(name, TEMPLATES), "utf8");
    cache.set(name, template);
  }
  return Mustache.render(template, view, {}, { escape: escapeMarkdown });
}

/**
 * Inline Markdown (GitHub Flavored), one line: only what can start Markdown or HTML is escaped, so
 * "INC-4211", "2026-11-29" and "v1.2" read as typed in the raw text too.
 *
 * - Anywhere: `\` `` ` `` `*` `_` `~` (escapes, code, emphasis, strikethrough), `[` `]` (links and
 *   images: with both escaped, a following `(url)` is plain text), `<` `>` `&` (HTML, autolinks,
 *   entities), `|` (a table cell's end: values sit in table rows), `$` (GitHub math), `#` (issue
 *   references and headings); `@` gets a zero-width space after it, so it mentions nobody.
 * - At the start, where a value may begin a block (after a template's "- "): `-` `+` `=` and
 *   "1." / "1)" (lists, setext underlines). CommonMark lets any ASCII punctuation be escaped, so
 *   every escape renders as the character itself.
 * - Newlines and tabs become spaces: a value never starts a new block by itself.
 * A bare URL stays linkable: GitHub shows it as its own address, which disguises nothing.
 * test/present/escape-markdown.test.ts checks these rules with a real GFM parser.
 */
export function escapeMarkdown(value: unknown): string {
  return String(value)
    .replace(/[\r\n\t]+/g, " ")
    .replace(/[\\`*_~[\]<>&|$#]/g, (c) => `\\${c}`)
    .replace(/^(\s*)([-+=])/, "$1\\$2")
    .replace(/^(\s*\d{1,9})([.)])/, "$1\\$2")
    .replace(/@/g, "@\u200b");
}
