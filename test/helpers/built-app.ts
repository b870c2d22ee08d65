import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import ts from "typescript";

/**
 * The app as the image holds it — lib/ (src/ compiled), templates/, package.json, node_modules —
 * in a temporary directory, for tests that start the real server process (`node lib/server.js`).
 * Compiled file by file without type checking (the typecheck step does that), so it takes seconds.
 */
export function buildApp(): { dir: string; remove(): void } {
  const root = new URL("../../", import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), "jit-app-"));
  const src = join(root, "src");
  for (const file of tsFiles(src)) {
    const { outputText } = ts.transpileModule(readFileSync(file, "utf8"), { fileName: file, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    const out = join(dir, "lib", relative(src, file)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  for (const file of ["package.json", "app.yml"]) copyFileSync(join(root, file), join(dir, file));
  symlinkSync(join(root, "templates"), join(dir, "templates"));
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}
