import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * A real git repository in a temporary folder, written commit by commit with the dates and
 * messages the test chooses (the app's squash merges and reverts, as `jit audit` reads them).
 */
export class GitHistory {
  readonly root = mkdtempSync(join(tmpdir(), "jit-history-"));

  constructor() {
    this.git("2026-01-01T00:00:00Z", "init", "-q", "-b", "main");
  }

  write(path: string, content: string): this {
    mkdirSync(dirname(join(this.root, path)), { recursive: true });
    writeFileSync(join(this.root, path), content);
    return this;
  }

  remove(path: string): this {
    rmSync(join(this.root, path));
    return this;
  }

  commit(date: string, message: string): this {
    this.git(date, "add", "-A");
    this.git(date, "commit", "-q", "-m", message);
    return this;
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  private git(date: string, ...args: string[]): void {
    const who = { GIT_AUTHOR_NAME: "jit-access[bot]", GIT_AUTHOR_EMAIL: "bot@example.invalid", GIT_COMMITTER_NAME: "jit-access[bot]", GIT_COMMITTER_EMAIL: "bot@example.invalid" };
    execFileSync("git", ["-C", this.root, ...args], { stdio: "pipe", env: { ...process.env, ...who, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
  }
}
