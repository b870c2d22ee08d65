import { describe, expect, it } from "@jest/globals";
import GithubSlugger from "github-slugger";
import { marked, type Token, type Tokens } from "marked";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { policyReference } from "../bench/docs/policy-reference.js";
import { TOUR_CODEOWNERS, TOUR_GRANT, TOUR_GRANT_PATH, TOUR_POLICY } from "../bench/docs/tour.js";
import { runCli } from "../src/cli/program.js";
import { STATUS_LABELS } from "../src/lifecycle/status.js";
import { BUILTIN_DEFAULTS } from "../src/policy/load.js";

/**
 * The documentation is part of the product: its links resolve, the tests the threat model names
 * exist, the generated policy page is what the generator writes, the README's tour passes
 * `jit validate`, and nothing cites a file outside the repository or a moment of its writing.
 */
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

function markdownFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownFiles(join(dir, e.name)) : e.name.endsWith(".md") ? [join(dir, e.name)] : [],
  );
}
const DOCS = ["README.md", "SECURITY.md", "CONTRIBUTING.md", "CHANGELOG.md", ...markdownFiles("docs")];

/** The text a heading shows, as GitHub slugs it: inline Markdown rendered to plain text. */
function plain(tokens: readonly Token[] | undefined): string {
  return (tokens ?? []).map((t) => ("tokens" in t && t.tokens ? plain(t.tokens) : t.type === "codespan" ? (t as Tokens.Codespan).text : "text" in t ? String(t.text) : "")).join("");
}

const anchorCache = new Map<string, Set<string>>();
function anchorsOf(path: string): Set<string> {
  let anchors = anchorCache.get(path);
  if (!anchors) {
    const slugger = new GithubSlugger();
    anchors = new Set<string>();
    marked.walkTokens(marked.lexer(read(path)), (t) => {
      if (t.type === "heading") anchors!.add(slugger.slug(plain((t as Tokens.Heading).tokens)));
    });
    anchorCache.set(path, anchors);
  }
  return anchors;
}

function linksOf(path: string): string[] {
  const hrefs: string[] = [];
  marked.walkTokens(marked.lexer(read(path)), (t) => {
    if (t.type === "link" || t.type === "image") hrefs.push((t as Tokens.Link).href);
  });
  return hrefs;
}

/** Fenced code blocks of a Markdown file, with their language. */
function codeBlocks(path: string): { lang: string; text: string }[] {
  return marked.lexer(read(path)).filter((t): t is Tokens.Code => t.type === "code").map((t) => ({ lang: t.lang ?? "", text: `${t.text}\n` }));
}

describe("documentation links", () => {
  it.each(DOCS)("every relative link and anchor in %s resolves", (file) => {
    const broken: string[] = [];
    for (const href of linksOf(file)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // https:, mailto:
      const [target = "", anchor] = href.split("#");
      const path = target === "" ? file : relative(ROOT, resolve(ROOT, dirname(file), decodeURIComponent(target)));
      if (!existsSync(join(ROOT, path))) {
        broken.push(`${href}: no file ${path}`);
        continue;
      }
      if (anchor !== undefined && !(path.endsWith(".md") && anchorsOf(path).has(anchor))) broken.push(`${href}: no heading #${anchor} in ${path}`);
    }
    expect(broken).toEqual([]);
  });

  it("every page under docs/ can be reached from the README by following links", () => {
    const reached = new Set<string>(["README.md"]);
    const queue = ["README.md"];
    while (queue.length > 0) {
      const file = queue.shift()!;
      for (const href of linksOf(file)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue;
        const target = href.split("#")[0]!;
        if (!target.endsWith(".md")) continue;
        const path = relative(ROOT, resolve(ROOT, dirname(file), decodeURIComponent(target)));
        if (!reached.has(path) && existsSync(join(ROOT, path))) {
          reached.add(path);
          queue.push(path);
        }
      }
    }
    expect(DOCS.filter((file) => !reached.has(file))).toEqual([]);
  });

  it("slugs headings the way GitHub does", () => {
    const slugger = new GithubSlugger();
    const heading = marked.lexer("## Statuses, check and `jit:` labels")[0] as Tokens.Heading;
    expect(slugger.slug(plain(heading.tokens))).toBe("statuses-check-and-jit-labels");
    expect(slugger.slug("The jit command")).toBe("the-jit-command");
    expect(slugger.slug("The jit command")).toBe("the-jit-command-1");
  });
});

describe("the threat model", () => {
  /** The `test` column of every table: `file › name` (the file under test/, the test's name, shortened with …). */
  function citedTests(): { file: string; name: string | undefined; cell: string }[] {
    const cited: { file: string; name: string | undefined; cell: string }[] = [];
    marked.walkTokens(marked.lexer(read("docs/threat-model.md")), (t) => {
      if (t.type !== "table") return;
      const table = t as Tokens.Table;
      const column = table.header.findIndex((h) => h.text === "test");
      if (column < 0) return;
      for (const row of table.rows) {
        marked.walkTokens(row[column]!.tokens, (c) => {
          if (c.type !== "codespan") return;
          const [file, name] = (c as Tokens.Codespan).text.split(" › ");
          cited.push({ file: file!.trim(), name: name?.trim(), cell: row[column]!.text });
        });
      }
    });
    return cited;
  }

  it("names at least the tests it has always named", () => {
    expect(citedTests().length).toBeGreaterThan(100);
  });

  it("names only test files that exist", () => {
    // "`… reopened with new commits…`" continues the file of the citation before it.
    const files = new Set(citedTests().map((c) => c.file).filter((file) => !file.startsWith("…")));
    expect([...files].filter((file) => !existsSync(join(ROOT, "test", `${file}.test.ts`)))).toEqual([]);
  });

  it("names only tests that exist in those files: every word of a cited name is in its file", () => {
    // Names are shortened with "…", drop backticks, and join a describe's name to its test's, and
    // files build some names from constants (`${FILLERS} filler files`): so each word is looked for.
    const words = (text: string) => text.toLowerCase().replace(/`/g, "").match(/[a-z][a-z_-]{3,}/g) ?? [];
    const missing: string[] = [];
    let file = "";
    for (const c of citedTests()) {
      const name = c.file.startsWith("…") ? c.file : c.name;
      if (!c.file.startsWith("…")) file = readFileSync(join(ROOT, "test", `${c.file}.test.ts`), "utf8").toLowerCase().replace(/`/g, "");
      if (!name) continue;
      const absent = words(name).filter((w) => !file.includes(w));
      if (absent.length > 0) missing.push(`${c.file} › ${name}: ${absent.join(", ")}`);
    }
    expect(missing).toEqual([]);
  });
});

describe("generated pages", () => {
  it("docs/reference/policy.md is what `npm run docs` writes from schemas/policy.schema.json", () => {
    const schema = JSON.parse(read("schemas/policy.schema.json"));
    expect(read("docs/reference/policy.md")).toBe(policyReference(schema, BUILTIN_DEFAULTS));
  });

  it("the policy page documents every field of the schema, with the built-in defaults", () => {
    const page = read("docs/reference/policy.md");
    for (const field of ["version", "resources.<resource>.roles.<role>.ticket_pattern", "break_glass.approvers", "notifications.slack_webhook_env"]) expect(page).toContain(`| \`${field}\` |`);
    expect(page).toContain("| `defaults.max_duration` | duration |  | `8h` |");
  });

  it("docs/reference/statuses.md shows every state of the core, and every status label", () => {
    const union = /export type StateStatus = ([^;]+);/.exec(read("src/lifecycle/record.ts"))![1]!;
    const states = [...union.matchAll(/"([A-Z]+)"/g)].map((m) => m[1]!);
    expect(states.length).toBeGreaterThanOrEqual(7);
    const page = read("docs/reference/statuses.md");
    const diagram = codeBlocks("docs/reference/statuses.md").find((b) => b.lang === "mermaid")!.text;
    for (const state of states) expect(diagram).toMatch(new RegExp(`\\b${state}\\b`));
    for (const [status, label] of Object.entries(STATUS_LABELS)) expect(page).toContain(`| ${status} | \`${label}\` |`);
  });
});

describe("the README", () => {
  it("is short", () => {
    expect(read("README.md").split("\n").length).toBeLessThanOrEqual(260);
  });

  it("starts with the commands that run the app and the tests (.ci/run runs the second)", () => {
    const first = codeBlocks("README.md")[0]!.text;
    expect(first).toMatch(/^npm ci && npm start\b/m);
    expect(first).toMatch(/^npm ci && npm test\b/m);
    expect(read(".ci/run")).toMatch(/^npm test$/m);
  });

  it("shows the tour's files as the pictures were taken from them", () => {
    const blocks = codeBlocks("README.md").map((b) => b.text);
    expect(blocks).toContain(TOUR_POLICY);
    expect(blocks).toContain(TOUR_CODEOWNERS);
    expect(blocks).toContain(TOUR_GRANT);
    expect(read("README.md")).toContain(TOUR_GRANT_PATH);
    for (const image of ["comment-pending", "check-pending", "comment-granted"]) expect(read("README.md")).toContain(`docs/images/${image}.png`);
  });

  it("tour's policy, CODEOWNERS and grant pass `jit validate`, the grant checked as a new request", async () => {
    const blocks = codeBlocks("README.md");
    const policy = blocks.find((b) => b.lang === "yaml" && b.text.startsWith("version:"))!.text;
    const grant = blocks.find((b) => b.lang === "yaml" && b.text.startsWith("requester:"))!.text;
    const owners = blocks.find((b) => b.lang === "text" && b.text.includes("/grants/"))!.text;
    const root = mkdtempSync(join(tmpdir(), "jit-docs-tour-"));
    try {
      for (const [path, content] of [[".github/jit-access.yml", policy], [".github/CODEOWNERS", owners], [TOUR_GRANT_PATH, grant]] as const) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), content);
      }
      let stdout = "";
      let stderr = "";
      const io = { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stderr += t), cwd: root, now: () => new Date() };
      expect(await runCli(["validate", TOUR_GRANT_PATH], io)).toBe(0);
      expect(stdout).toBe("");
      expect(await runCli(["validate"], io)).toBe(0);
      expect(stderr).toContain("ok: checked the policy and 1 grant file(s)");
      // The validator can fail: the same grant over the role's maximum is refused.
      writeFileSync(join(root, TOUR_GRANT_PATH), grant.replace("duration: 2h", "duration: 5h"));
      expect(await runCli(["validate", TOUR_GRANT_PATH], io)).toBe(1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("what the docs may not say", () => {
  /** Every text file of the repository (not installed or built ones). */
  function repositoryFiles(dir = ""): string[] {
    const skip = new Set(["node_modules", ".git", "lib", "build", "artifacts"]);
    return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return skip.has(e.name) ? [] : repositoryFiles(path);
      return /\.(png|jpe?g|gif|ico|pem)$/i.test(e.name) || statSync(join(ROOT, path)).size > 5_000_000 ? [] : [path];
    });
  }

  it("nothing cites the product brief, which is not part of the repository", () => {
    const brief = ["PRODUCT", "md"].join(".");
    const citing = repositoryFiles().filter((path) => readFileSync(join(ROOT, path), "utf8").includes(brief));
    expect(citing).toEqual([]);
  });

  it.each(DOCS)("%s has no session language or dated 'before/after' phrasing", (file) => {
    const text = read(file);
    const phrases = [/this session/i, /last session/i, /before this change/i, /after this change/i, /\btoday's\b/i];
    if (file !== "docs/performance.md") phrases.push(/\bas of 20\d\d-\d\d-\d\d\b/i);
    expect(phrases.filter((p) => p.test(text)).map(String)).toEqual([]);
  });
});
