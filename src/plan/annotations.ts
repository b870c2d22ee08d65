import type { Diagnostic } from "../diagnostics.js";
import type { Locator } from "../yaml/safe-parse.js";
import type { AccessPlan } from "./types.js";

/** At most this many lines annotated (GitHub takes 50 annotations a request; errors come first). */
const MAX_PLAN_ANNOTATIONS = 30;

/**
 * One annotation per policy line that widens access, saying what it widens: a default that
 * widens five roles is one annotation naming them. From the key's line to the value's end.
 */
export function wideningAnnotations(p: AccessPlan, locate: Locator | undefined, path: string): Diagnostic[] {
  if (!locate) return [];
  const byPlace = new Map<string, { where: readonly (string | number)[]; texts: string[] }>();
  for (const c of p.changes) {
    if (c.effect !== "widening" || !c.where) continue;
    const key = JSON.stringify(c.where);
    const scope = c.resource === undefined ? "" : `${c.resource}${c.role === undefined ? "" : `/${c.role}`}: `;
    const entry = byPlace.get(key) ?? { where: c.where, texts: [] };
    entry.texts.push(`${scope}${c.text}`);
    byPlace.set(key, entry);
  }
  return [...byPlace.values()].slice(0, MAX_PLAN_ANNOTATIONS).map(({ where, texts }) => {
    const key = locate.key(where);
    const value = locate.value(where);
    const shown = texts.slice(0, 5).join("; ") + (texts.length > 5 ? `; and ${texts.length - 5} more` : "");
    // A block value's range ends at the start of the next line: the annotation stops at the line before.
    const spills = value.endColumn <= 1 && value.endLine > key.line;
    const endLine = spills ? value.endLine - 1 : Math.max(key.line, value.endLine);
    const endColumn = endLine === key.line && spills ? key.endColumn : value.endColumn;
    return { path, line: key.line, column: key.column, endLine, endColumn, message: `widens access: ${shown}` };
  });
}
