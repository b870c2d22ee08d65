import { describe, expect, it } from "@jest/globals";
import { parseGrant } from "../src/grant/parse.js";
import { parseYamlMapping, MAX_DEPTH } from "../src/yaml/safe-parse.js";

const P = "grants/prod-db/x.yaml";
const limits = { maxBytes: 16 * 1024 };

function errors(content: string | Uint8Array) {
  const result = parseYamlMapping(P, content, limits);
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.value)}`);
  return result.diagnostics.map((d) => ({ line: d.line, column: d.column, message: d.message }));
}

describe("hostile YAML is refused with a clear error at its place", () => {
  it("a file over the size limit, unread", () => {
    expect(errors("a: " + "x".repeat(17 * 1024))).toEqual([{ line: 1, column: 1, message: "file is 17411 bytes; the limit is 16384 bytes" }]);
  });

  it("binary content (a NUL byte)", () => {
    expect(errors(new Uint8Array([0x61, 0x3a, 0x20, 0x00, 0x62]))).toEqual([{ line: 1, column: 1, message: "file is binary (it contains a NUL byte), not YAML text" }]);
  });

  it("bytes that are not UTF-8", () => {
    expect(errors(new Uint8Array([0x61, 0x3a, 0x20, 0xff, 0xfe]))).toEqual([{ line: 1, column: 1, message: "file is not valid UTF-8 text" }]);
  });

  it("an alias bomb (billion laughs), before anything is expanded", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) bomb.push(`${"abcdefghi"[i]}: &${"abcdefghi"[i]} [${Array(9).fill(`*${"abcdefghi"[i - 1]}`).join(", ")}]`);
    const found = errors(bomb.join("\n"));
    expect(found[0]).toEqual({ line: 1, column: 4, message: "YAML anchors (&a) are not allowed" });
    expect(found.some((e) => e.message === "YAML aliases (*a) are not allowed" && e.line === 2)).toBe(true);
  });

  it("a lone alias or anchor", () => {
    expect(errors("x: 1\nreason: &r why\n")).toEqual([{ line: 2, column: 9, message: "YAML anchors (&r) are not allowed" }]);
  });

  it("duplicate keys (the second value would silently win)", () => {
    expect(errors("requester: alice\nduration: 1h\nrequester: mallory\n")).toEqual([{ line: 3, column: 1, message: "Map keys must be unique" }]);
  });

  it("several documents in one file", () => {
    expect(errors("requester: alice\n---\nrequester: mallory\n")).toEqual([{ line: 2, column: 1, message: "file holds several YAML documents; expected exactly one" }]);
  });

  it.each([
    ["a list", "- a\n- b\n", "the document must be a mapping of keys to values, not a list"],
    ["a string", "just words\n", 'the document must be a mapping of keys to values, not the string "just words"'],
    ["null", "~\n", "the document must be a mapping of keys to values, not null"],
  ])("a root that is %s", (_, text, message) => {
    expect(errors(text)).toEqual([{ line: 1, column: 1, message }]);
  });

  it("an empty file", () => {
    expect(errors("")).toEqual([{ line: 1, column: 1, message: "file is empty; expected a YAML mapping" }]);
    expect(errors("# only a comment\n")).toEqual([{ line: 1, column: 1, message: "file is empty; expected a YAML mapping" }]);
  });

  it("explicit tags, which change what a value means", () => {
    expect(errors("duration: !!binary aGVsbG8=\n")).toEqual([{ line: 1, column: 11, message: "YAML tags (!!binary) are not allowed" }]);
    expect(errors("a: !custom x\n")[0]!.message).toBe("Unresolved tag: !custom");
  });

  it("complex (non-scalar) keys", () => {
    expect(errors("? [a, b]\n: c\n")).toEqual([{ line: 1, column: 3, message: "mapping keys must be plain scalars" }]);
  });

  it("nesting deep enough to exhaust the parser's stack, without crashing the process", () => {
    // 5,000 levels used to abort Node itself (out of memory in V8's regexp compiler deep in the recursion).
    const deep = "a: " + "[".repeat(5000) + "]".repeat(5000) + "\n";
    const found = errors(new TextEncoder().encode(deep));
    expect(found).toEqual([{ line: 1, column: 3 + MAX_DEPTH, message: `YAML nesting is deeper than ${MAX_DEPTH} levels` }]);
    const blockSeq = "a: " + "- ".repeat(3000) + "x\n";
    expect(errors(blockSeq).length).toBeGreaterThan(0);
  });

  it("malformed YAML, with the parser's message at the right line", () => {
    expect(errors("requester: alice\nrole: [read-only\nduration: 1h\n")[0]).toMatchObject({ line: 3 });
  });

  it("caps the number of errors one file can produce", () => {
    const many = Array.from({ length: 60 }, (_, i) => `k${i}: !!str ${i}`).join("\n");
    const found = errors(many);
    expect(found).toHaveLength(20);
    expect(found[19]!.message).toBe("41 more problems, the first: YAML tags (!!str) are not allowed");
  });
});

describe("benign YAML", () => {
  it("parses, strips a byte-order mark, and locates values and keys", () => {
    const result = parseYamlMapping(P, "\ufeffa: 1\nb:\n  - x\n  - y\n", limits);
    if (!result.ok) throw new Error("expected success");
    expect(result.value).toEqual({ a: 1, b: ["x", "y"] });
    expect(result.locate.value(["b", 1])).toEqual({ line: 4, column: 5, endLine: 4, endColumn: 6 });
    expect(result.locate.key(["b"])).toEqual({ line: 2, column: 1, endLine: 2, endColumn: 2 });
    // A path that does not exist falls back to its nearest existing ancestor.
    expect(result.locate.value(["b", 9])).toEqual(result.locate.value(["b"]));
  });

  it("keeps timestamps and numbers-looking strings as written where the schema wants strings", () => {
    const result = parseGrant(P, "requester: alice\nresource: prod-db\nrole: read-only\nduration: 2h\nreason: because of INC-1\nstart: 2026-11-29T14:00:00Z\n");
    expect(result.ok && result.grant.start).toBe("2026-11-29T14:00:00Z");
  });
});
