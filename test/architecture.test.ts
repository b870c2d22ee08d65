import { beforeAll, describe, expect, it } from "@jest/globals";
import madge from "madge";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The shape of the code, from its import graph (madge, type-only imports counted: a type import is
 * still a dependency of one module's meaning on another's, and a cycle through one is still a
 * cycle to untangle). `npm run cycles` prints the same cycles from the command line.
 */
const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

let product: madge.MadgeInstance;
/** Edges of src/, keyed and valued relative to src/ ("lifecycle/decide.ts", "../testkit/x.ts"). */
let edges: [from: string, to: string][];

beforeAll(async () => {
  product = await madge(root("src"), { fileExtensions: ["ts"], tsConfig: root("tsconfig.json") });
  edges = Object.entries(product.obj()).flatMap(([from, tos]) => tos.map((to): [string, string] => [from, to]));
}, 60_000);

describe("the import graph of src/", () => {
  it("is complete: every file of src/ is in it and every relative import resolved", () => {
    // Without this an import madge failed to resolve (a .js suffix it could not map to .ts) would
    // vanish from the graph, and the assertions below would pass on a graph missing the edge.
    const files = readdirSync(root("src"), { recursive: true }).map(String).filter((f) => f.endsWith(".ts"));
    const inSrc = Object.keys(product.obj()).filter((file) => !file.startsWith("../"));
    expect(inSrc.sort()).toEqual(files.map((f) => f.split("\\").join("/")).sort());
    expect(product.warnings().skipped).toEqual([]);
    expect(edges.length).toBeGreaterThan(files.length);
  });

  it("has no circular imports", () => {
    expect(product.circular()).toEqual([]);
  });

  it("keeps src/lifecycle/ (the pure decisions) free of src/github/ (Octokit and I/O)", () => {
    expect(edges.filter(([from, to]) => from.startsWith("lifecycle/") && to.startsWith("github/")).map((e) => e.join(" → "))).toEqual([]);
  });

  it("never reaches into testkit/, bench/ or test/: the product build and the image hold none of them", () => {
    // Only edges from src/ itself: once an import leaves src/, madge follows the files it reaches.
    const out = edges.filter(([from, to]) => !from.startsWith("../") && /^\.\.\/(testkit|bench|test)\//.test(to));
    expect(out.map((e) => e.join(" → "))).toEqual([]);
  });
});

describe("the import graph of testkit/ and bench/", () => {
  it("has no circular imports of its own (cycles inside src/ are the test above's)", async () => {
    const support = await madge([root("testkit"), root("bench")], { fileExtensions: ["ts"], tsConfig: root("tsconfig.bench.json") });
    expect(support.warnings().skipped).toEqual([]);
    expect(support.circular().filter((cycle) => cycle.some((file) => !file.startsWith("src/")))).toEqual([]);
  }, 60_000);
});
