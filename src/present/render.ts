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

/** Inline Markdown: punctuation escaped, mentions broken with a zero-width space, one line. */
export function escapeMarkdown(value: unknown): string {
  return String(value)
    .replace(/[\r\n\t]+/g, " ")
    .replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, (c) => `\\${c}`)
    .replace(/@/g, "@\u200b");
}
