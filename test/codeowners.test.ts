import { describe, expect, it } from "@jest/globals";
import { ownersOf, parseCodeowners } from "../src/policy/codeowners.js";

const owners = (text: string, path: string) => ownersOf(parseCodeowners(".github/CODEOWNERS", text), path).owners;

describe("CODEOWNERS with GitHub's semantics", () => {
  it("the last matching rule wins", () => {
    const text = "*  @acme/security\n/grants/prod-db/  @acme/dba @acme/security\n";
    expect(owners(text, "grants/prod-db/a.yaml")).toEqual(["@acme/dba", "@acme/security"]);
    expect(owners(text, "grants/other/a.yaml")).toEqual(["@acme/security"]);
    expect(owners("/grants/prod-db/ @acme/dba\n* @acme/security\n", "grants/prod-db/a.yaml")).toEqual(["@acme/security"]);
  });
  it("a rule without owners leaves its paths unowned", () => {
    expect(owners("* @acme/security\n/grants/sandbox/\n", "grants/sandbox/a.yaml")).toEqual([]);
  });
  it("patterns follow gitignore: unanchored names match at any depth, anchored ones only at the root", () => {
    expect(owners("*.yaml @acme/yaml\n", "grants/prod-db/a.yaml")).toEqual(["@acme/yaml"]);
    expect(owners("prod-db/ @acme/dba\n", "grants/prod-db/a.yaml")).toEqual(["@acme/dba"]);
    expect(owners("/prod-db/ @acme/dba\n", "grants/prod-db/a.yaml")).toEqual([]);
  });
  it("a trailing wildcard matches files of that directory only, as GitHub documents for docs/*", () => {
    expect(owners("grants/*  @acme/one-level\n", "grants/a.yaml")).toEqual(["@acme/one-level"]);
    expect(owners("grants/*  @acme/one-level\n", "grants/prod-db/a.yaml")).toEqual([]);
    expect(owners("/grants/prod-db/*.yaml  @acme/dba\n", "grants/prod-db/a.yaml")).toEqual(["@acme/dba"]);
    expect(owners("*  @acme/all\n", "grants/prod-db/a.yaml")).toEqual(["@acme/all"]);
    expect(owners("/grants/  @acme/all-grants\n", "grants/prod-db/a.yaml")).toEqual(["@acme/all-grants"]);
    expect(owners("grants/**/a.yaml @acme/deep\n", "grants/prod-db/a.yaml")).toEqual(["@acme/deep"]);
  });
  it("owners are case-insensitive and deduplicated; users are groups of one", () => {
    expect(owners("* @Acme/DBA @acme/dba @Bob\n", "x")).toEqual(["@acme/dba", "@bob"]);
  });
  it("comments and escaped hashes", () => {
    expect(owners("# comment\n\\#file @acme/hash # trailing\n", "#file")).toEqual(["@acme/hash"]);
  });
  it("reports what GitHub does not support, and keeps going", () => {
    const co = parseCodeowners(".github/CODEOWNERS", "!grants/x @acme/a\ngrants/[ab].yaml @acme/b\n* dba@acme.example @acme/security not-an-owner\n");
    expect(co.problems.map((p) => `${p.line}: ${p.message}`)).toEqual([
      "1: negated patterns are not supported in CODEOWNERS: !grants/x",
      "2: character ranges are not supported in CODEOWNERS: grants/[ab].yaml",
      "3: email owner dba@acme.example cannot be checked against reviews; use @login or @org/team",
      "3: not-an-owner is not an owner (@login or @org/team)",
    ]);
    expect(ownersOf(co, "grants/a.yaml").owners).toEqual(["@acme/security"]);
  });
});
