import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";

/** What the project says about itself stays true: its licence, its version, its changelog. */
const root = new URL("../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

describe("licence and releases", () => {
  const pkg = JSON.parse(read("package.json")) as { version: string; license: string };

  it("ships the Apache-2.0 licence package.json declares", () => {
    expect(pkg.license).toBe("Apache-2.0");
    const licence = read("LICENSE");
    expect(licence).toContain("Apache License");
    expect(licence).toContain("Version 2.0, January 2004");
    expect(licence).toContain("END OF TERMS AND CONDITIONS");
  });

  it("has a semantic version, and the changelog's newest entry is that version", () => {
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
    const newest = /^## (\d+\.\d+\.\d+)/m.exec(read("CHANGELOG.md"))?.[1];
    expect(newest).toBe(pkg.version);
    const lock = JSON.parse(read("package-lock.json")) as { version: string };
    expect(lock.version).toBe(pkg.version);
  });
});
