import { describe, expect, it } from "@jest/globals";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * docs/reference/configuration.md lists exactly the environment variables that are read: by the
 * app (src/, every `process.env.X`, `env.X`, `env["X"]`), by its CLI (src/cli/), and by Probot
 * (its server, setup flow and key loading, listed below and checked against Probot's code).
 */
const root = new URL("../", import.meta.url).pathname;

/** Probot's own variables (probot/lib without `probot receive`, and @probot/get-private-key). */
const PROBOT_VARIABLES = [
  "APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "WEBHOOK_PATH", "WEBHOOK_PROXY_URL", "PORT", "HOST", "REDIS_URL",
  "LOG_LEVEL", "LOG_FORMAT", "LOG_LEVEL_IN_STRING", "LOG_MESSAGE_KEY", "SENTRY_DSN", "NODE_ENV", "GHE_HOST", "GHE_PROTOCOL",
  "GH_ORG", "PROJECT_DOMAIN", "NO_SMEE_SETUP",
];

function files(dir: string, ext: RegExp, skip: (path: string) => boolean = () => false): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (skip(path)) return [];
    return statSync(path).isDirectory() ? files(path, ext, skip) : ext.test(path) ? [path] : [];
  });
}

/** Variable names a source file reads from an environment object. */
function readsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const names = [...code.matchAll(/\benvValue\(\s*\w+\s*,\s*["']([A-Z][A-Z0-9_]*)["']/g)].map((m) => m[1]!);
  names.push(...[...code.matchAll(/\b(?:process\.env|env|envWithDefaults)(?:\.([A-Z][A-Z0-9_]*)|\[["']([A-Z][A-Z0-9_]*)["']\])/g)].map((m) => (m[1] ?? m[2])!));
  for (const m of code.matchAll(/\{([^{}]*)\}\s*=\s*process\.env\b/g)) names.push(...m[1]!.split(",").map((s) => s.trim().split(/[\s:=]/)[0]!).filter((s) => /^[A-Z][A-Z0-9_]*$/.test(s)));
  // A file that reads the environment by a computed name (`env[name]`) names its variables as
  // string constants: the server's own (JIT_…) and the conventional ones its clients read.
  if (/\benv\[(?!["'])|\benvValue\(\s*\w+\s*,\s*(?!["'])/.test(code)) {
    for (const m of code.matchAll(/["'`](JIT_[A-Z0-9_]+|AWS_ENDPOINT_URL_[A-Z0-9_]+|KUBECONFIG|GITHUB_CLIENT_(?:ID|SECRET))["'`]/g)) names.push(m[1]!);
  }
  return names;
}

type Reader = "Probot" | "app" | "CLI";

/** Every variable read, with who reads it. */
function variablesRead(): Map<string, Set<Reader>> {
  const read = new Map<string, Set<Reader>>();
  const add = (name: string, reader: Reader) => read.set(name, (read.get(name) ?? new Set()).add(reader));
  for (const file of files(join(root, "src"), /\.ts$/)) {
    const reader = relative(join(root, "src"), file).startsWith("cli/") ? "CLI" : "app";
    for (const name of readsOf(readFileSync(file, "utf8"))) add(name, reader);
  }
  for (const name of PROBOT_VARIABLES) add(name, "Probot");
  return read;
}

/** The tables' rows: `| \`NAME\` | default | read by | what |`. */
function documented(): Map<string, { readBy: string; default: string }> {
  const text = readFileSync(join(root, "docs/reference/configuration.md"), "utf8");
  const rows = new Map<string, { readBy: string; default: string }>();
  for (const m of text.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| ([^|]+) \| ([^|]+) \|/gm)) {
    expect(rows.has(m[1]!)).toBe(false); // listed once
    rows.set(m[1]!, { default: m[2]!.trim(), readBy: m[3]!.trim() });
  }
  return rows;
}

describe("docs/reference/configuration.md", () => {
  it("Probot reads the variables listed here as its own (checked against its code, so an upgrade that reads more shows up)", () => {
    const probotFiles = [
      ...files(join(root, "node_modules/probot/lib"), /\.js$/, (p) => p.endsWith(join("bin", "receive.js"))),
      ...files(join(root, "node_modules/@probot/get-private-key/dist-src"), /\.js$/),
    ];
    const read = new Set(probotFiles.flatMap((file) => readsOf(readFileSync(file, "utf8"))));
    expect([...read].sort()).toEqual([...PROBOT_VARIABLES].sort());
  });

  it("lists every variable that is read: none missing", () => {
    const rows = documented();
    const missing = [...variablesRead().entries()]
      .filter(([name]) => !rows.has(name))
      .map(([name, readers]) => `${name} (read by ${[...readers].join(", ")}) is missing from docs/reference/configuration.md`);
    expect(missing).toEqual([]);
  });

  it("lists nothing that nobody reads, and says who reads each one, with its default", () => {
    const read = variablesRead();
    const rows = documented();
    expect([...rows.keys()].filter((name) => !read.has(name)).map((name) => `${name} is in the table but nothing reads it`)).toEqual([]);
    const wrong = [...rows.entries()].flatMap(([name, row]) =>
      [...(read.get(name) ?? [])].filter((reader) => !row.readBy.includes(reader)).map((reader) => `${name}: "Read by" should name ${reader}`),
    );
    expect(wrong).toEqual([]);
    expect([...rows.entries()].filter(([, row]) => row.default === "").map(([name]) => name)).toEqual([]);
  });
});
