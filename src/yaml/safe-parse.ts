import { Composer, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Parser, visit, type CST, type Document, type Node } from "yaml";
import { fileDiagnostic, type Diagnostic } from "../diagnostics.js";

/**
 * Parsing YAML that strangers wrote. Everything hostile is refused before it can cost
 * memory or change meaning: oversized files, binary content, anchors and aliases (the
 * "billion laughs" bomb and quiet key merging), duplicate keys, custom tags, several
 * documents, complex keys, and roots that are not a mapping. Each refusal is a
 * Diagnostic at the place it comes from.
 */

export type YamlPath = readonly (string | number)[];

export interface SourceRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** Finds where a value (or a mapping key) of the parsed document stands in the file. */
export interface Locator {
  /** The range of the value at `path`, or of the nearest ancestor that exists. */
  value(path: YamlPath): SourceRange;
  /** The range of the key at `path` (for "unknown key" errors). */
  key(path: YamlPath): SourceRange;
}

export type ParsedYaml =
  | { ok: true; value: Record<string, unknown>; locate: Locator }
  | { ok: false; diagnostics: Diagnostic[] };

export interface YamlLimits {
  /** Files larger than this are refused unread. */
  maxBytes: number;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

export function parseYamlMapping(path: string, content: Uint8Array | string, limits: YamlLimits): ParsedYaml {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  if (bytes.byteLength > limits.maxBytes) {
    return fail(fileDiagnostic(path, `file is ${bytes.byteLength} bytes; the limit is ${limits.maxBytes} bytes`));
  }
  if (bytes.includes(0)) return fail(fileDiagnostic(path, "file is binary (it contains a NUL byte), not YAML text"));
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return fail(fileDiagnostic(path, "file is not valid UTF-8 text"));
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const lines = new LineCounter();
  let docs: Document.Parsed[];
  try {
    // yaml's CST parser is iterative, its composer recursive: thousands of nested "[" would
    // exhaust the stack there (even fatally, inside V8's regexp compiler), so depth is
    // bounded on the CST before anything is composed.
    const tokens = Array.from(new Parser(lines.addNewLine).parse(text));
    const tooDeep = deepestBeyond(tokens, MAX_DEPTH);
    if (tooDeep !== undefined) {
      const { line, col } = lines.linePos(tooDeep);
      return fail({ path, line, column: col, endLine: line, endColumn: col, message: `YAML nesting is deeper than ${MAX_DEPTH} levels` });
    }
    const composer = new Composer({ schema: "core", merge: false, uniqueKeys: true, strict: true, prettyErrors: false });
    docs = [...composer.compose(tokens, true, text.length)];
  } catch (error) {
    // The parser is iterative, but a pathological input must never take the app down.
    return fail(fileDiagnostic(path, `file could not be parsed as YAML: ${(error as Error).message}`));
  }
  const rangeOf = (start: number, end: number): SourceRange => {
    const a = lines.linePos(start);
    const b = lines.linePos(Math.max(start, end));
    return { line: a.line, column: a.col, endLine: b.line, endColumn: b.col };
  };
  const at = (message: string, start: number, end: number): Diagnostic => ({ path, message, ...rangeOf(start, end) });

  if (docs.length === 0) return fail(fileDiagnostic(path, "file is empty; expected a YAML mapping"));
  if (docs.length > 1) {
    const second = docs[1]!;
    return fail(at("file holds several YAML documents; expected exactly one", second.range[0], second.range[0]));
  }
  const doc = docs[0]!;
  const problems: Diagnostic[] = [];
  const reported = [...doc.errors, ...doc.warnings];
  for (const error of reported) problems.push(at(yamlMessage(error.message), error.pos[0], error.pos[1]));
  if (problems.length > 0) return { ok: false, diagnostics: capped(problems) };

  visit(doc, {
    Alias(_, node) {
      const [s, e] = node.range ?? [0, 0];
      problems.push(at(`YAML aliases (*${node.source}) are not allowed`, s, e));
    },
    Node(_, node) {
      // yaml's ranges start at the value; point at the anchor or tag itself, which comes before it.
      const before = (mark: string) => {
        const [s] = node.range ?? [0];
        const i = text.lastIndexOf(mark, s);
        return i >= 0 ? i : s;
      };
      if (node.anchor) {
        const s = before(`&${node.anchor}`);
        problems.push(at(`YAML anchors (&${node.anchor}) are not allowed`, s, s + node.anchor.length + 1));
      }
      // Explicit tags (!!binary, !!set, !custom) change what a value means; plain data needs none.
      if (node.tag) {
        const shown = node.tag.replace("tag:yaml.org,2002:", "!!");
        const s = before(shown);
        problems.push(at(`YAML tags (${shown}) are not allowed`, s, s + shown.length));
      }
    },
    Pair(_, pair) {
      if (pair.key !== null && !isScalar(pair.key)) {
        const [s, e] = (pair.key as Node).range ?? [0, 0];
        problems.push(at("mapping keys must be plain scalars", s, e));
      }
    },
  });
  if (problems.length > 0) return { ok: false, diagnostics: capped(problems) };

  if (doc.contents === null) return fail(fileDiagnostic(path, "file is empty; expected a YAML mapping"));
  if (!isMap(doc.contents)) {
    const [s, e] = doc.contents?.range ?? [0, 0];
    return fail(at(`the document must be a mapping of keys to values, not ${describe(doc.contents)}`, s, e));
  }
  const value = doc.toJS({ maxAliasCount: 0 }) as Record<string, unknown>;
  return { ok: true, value, locate: locator(doc, rangeOf) };
}

/** Grants need two levels and policies about six; nothing legitimate comes near this. */
export const MAX_DEPTH = 32;

/** The offset of the first collection nested deeper than `limit`, walking the CST without recursion. */
function deepestBeyond(tokens: CST.Token[], limit: number): number | undefined {
  const stack: { token: CST.Token | undefined; depth: number }[] = tokens.map((token) => ({ token, depth: 0 }));
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    if (!token) continue;
    if (token.type === "document") {
      stack.push({ token: token.value, depth });
    } else if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      if (depth >= limit) return token.offset;
      for (const item of token.items) {
        if ("key" in item) stack.push({ token: item.key ?? undefined, depth: depth + 1 });
        stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

function locator(doc: Document.Parsed, rangeOf: (s: number, e: number) => SourceRange): Locator {
  const nodeAt = (path: YamlPath): { node: Node; depth: number } => {
    let node = doc.contents as Node;
    let depth = 0;
    for (const step of path) {
      const child = childOf(node, step);
      if (!child) break;
      node = child;
      depth++;
    }
    return { node, depth };
  };
  const value = (path: YamlPath): SourceRange => {
    const { node } = nodeAt(path);
    const [s, e] = node.range ?? [0, 0];
    return rangeOf(s, e);
  };
  return {
    value,
    key(path) {
      if (path.length === 0) return value(path);
      const parent = nodeAt(path.slice(0, -1));
      const last = path[path.length - 1];
      if (parent.depth === path.length - 1 && isMap(parent.node)) {
        const pair = parent.node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(last));
        if (pair && isScalar(pair.key) && pair.key.range) return rangeOf(pair.key.range[0], pair.key.range[1]);
      }
      return value(path);
    },
  };
}

function childOf(node: Node, step: string | number): Node | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
    return (pair?.value as Node | null) ?? undefined;
  }
  if (isSeq(node)) return (node.items[Number(step)] as Node | undefined) ?? undefined;
  return undefined;
}

function describe(node: unknown): string {
  if (node === null || node === undefined) return "nothing";
  if (isSeq(node)) return "a list";
  if (isAlias(node)) return "an alias";
  if (isScalar(node)) return node.value === null ? "null" : `the ${typeof node.value} ${JSON.stringify(node.value)}`;
  return "something else";
}

/** yaml's messages end with a code excerpt ("at line 3, column 1:\n..."); we give the position ourselves. */
function yamlMessage(message: string): string {
  return message.split(/ at line \d+, column \d+/)[0]!.trim();
}

/** One hostile file must not flood a check run (GitHub takes 50 annotations a request). */
export const MAX_DIAGNOSTICS = 20;

function capped(list: Diagnostic[]): Diagnostic[] {
  if (list.length <= MAX_DIAGNOSTICS) return list;
  const rest = list.length - MAX_DIAGNOSTICS + 1;
  return [...list.slice(0, MAX_DIAGNOSTICS - 1), { ...list[MAX_DIAGNOSTICS - 1]!, message: `${rest} more problems, the first: ${list[MAX_DIAGNOSTICS - 1]!.message}` }];
}

function fail(diagnostic: Diagnostic): ParsedYaml {
  return { ok: false, diagnostics: [diagnostic] };
}
