import { afterEach, describe, expect, it } from "@jest/globals";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * deploy/release.sh in a throwaway clone: it refuses a changelog that does not name the version,
 * builds the image with the OCI build arguments through whichever engine is installed (here a
 * recording stand-in for docker), tags v<version>; --dry-run only prints.
 */
const root = new URL("../", import.meta.url).pathname;
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function clone(changelogVersion = version): { repo: string; bin: string; calls: string } {
  const dir = mkdtempSync(join(tmpdir(), "jit-release-"));
  dirs.push(dir);
  const repo = join(dir, "repo");
  for (const file of ["package.json", "Dockerfile", "deploy/release.sh"]) {
    mkdirSync(dirname(join(repo, file)), { recursive: true });
    copyFileSync(join(root, file), join(repo, file));
  }
  writeFileSync(join(repo, "CHANGELOG.md"), `# Changelog\n\n## ${changelogVersion} (2026-12-07)\n\n- what changed\n`);
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { stdio: "pipe" });
  git("init", "-q");
  git("remote", "add", "origin", "https://github.com/acme/jit-access.git");
  git("add", ".");
  git("commit", "-qm", "release candidate");
  // Only what the script needs on PATH: no real docker or podman.
  const bin = join(dir, "bin");
  mkdirSync(bin);
  const calls = join(dir, "docker-calls");
  return { repo, bin, calls };
}

function release(c: { repo: string; bin: string }, ...args: string[]) {
  const r = spawnSync("bash", [join(c.repo, "deploy/release.sh"), ...args], { encoding: "utf8", env: { PATH: `${c.bin}:/usr/bin:/bin`, HOME: c.repo, GIT_COMMITTER_NAME: "releaser", GIT_COMMITTER_EMAIL: "releaser@example.invalid" } });
  return { status: r.status, out: r.stdout + r.stderr };
}

function fakeDocker(c: { bin: string; calls: string }): void {
  writeFileSync(join(c.bin, "docker"), `#!/bin/sh\nprintf '%s\\n' "$@" >> '${c.calls}'\n`);
  chmodSync(join(c.bin, "docker"), 0o755);
}

const tags = (repo: string) => execFileSync("git", ["-C", repo, "tag", "-l"], { encoding: "utf8" }).trim();
const head = (repo: string) => execFileSync("git", ["-C", repo, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();

describe("deploy/release.sh", () => {
  it("builds the image with the version, the commit and the source as OCI labels, then tags v<version>", () => {
    const c = clone();
    fakeDocker(c);
    const r = release(c, "--image", "ghcr.io/acme/jit-access");
    expect(r.status).toBe(0);
    expect(readFileSync(c.calls, "utf8").trim().split("\n")).toEqual([
      "build", "--build-arg", `VERSION=${version}`, "--build-arg", `REVISION=${head(c.repo)}`, "--build-arg", "SOURCE=https://github.com/acme/jit-access.git", "-t", `ghcr.io/acme/jit-access:${version}`, ".",
    ]);
    expect(tags(c.repo)).toBe(`v${version}`);
    expect(r.out).toContain(`git push origin v${version} && docker push ghcr.io/acme/jit-access:${version}`);
    // Once tagged, the same version is not released twice.
    const again = release(c);
    expect([again.status, again.out.trim()]).toEqual([1, `release: the tag v${version} exists already: raise the version`]);
  });

  it("--dry-run prints the build and the tag and does neither", () => {
    const c = clone();
    fakeDocker(c);
    const r = release(c, "--dry-run");
    expect(r.status).toBe(0);
    expect(r.out).toContain(`would run: docker build --build-arg VERSION=${version} --build-arg REVISION=${head(c.repo)}`);
    expect(r.out).toContain(`would run: git tag -a v${version} -m jit-access ${version}`);
    expect(() => readFileSync(c.calls)).toThrow();
    expect(tags(c.repo)).toBe("");
  });

  it("refuses a changelog whose newest entry is not package.json's version, and changes nothing", () => {
    const c = clone("0.0.1");
    fakeDocker(c);
    const r = release(c);
    expect([r.status, r.out.trim()]).toEqual([1, `release: CHANGELOG.md's newest entry is "0.0.1", package.json says ${version}: write the entry first`]);
    expect(tags(c.repo)).toBe("");
  });

  it("without docker or podman, prints the build command and stops before tagging", () => {
    const c = clone();
    const r = release(c);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`would run: docker build --build-arg VERSION=${version}`);
    expect(tags(c.repo)).toBe("");
  });
});
