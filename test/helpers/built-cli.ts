import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * `jit` as a program of its own, for tests that need a real process (a pseudo-terminal, a pipe):
 * src/ transpiled to JavaScript in a temporary folder laid out like the package (lib/, package.json,
 * templates/, node_modules/), so `node <dir>/lib/cli/main.js` runs today's source, not whatever an
 * earlier `npm run build` left in lib/. Transpiling without type-checking takes a second or two;
 * the typecheck is `npm run typecheck`'s job.
 */
export interface BuiltCli {
  main: string;
  dispose(): void;
}

export function buildCli(): BuiltCli {
  const dir = mkdtempSync(join(tmpdir(), "jit-cli-"));
  const src = join(ROOT, "src");
  for (const file of tsFiles(src)) {
    const out = join(dir, "lib", relative(src, file)).replace(/\.ts$/, ".js");
    const { outputText } = ts.transpileModule(readFileSync(file, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: file,
    });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  copyFileSync(join(ROOT, "package.json"), join(dir, "package.json"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  symlinkSync(join(ROOT, "templates"), join(dir, "templates"), "dir");
  return { main: join(dir, "lib", "cli", "main.js"), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}
