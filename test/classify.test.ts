import { describe, expect, it } from "@jest/globals";
import { classifyPullRequest, type ChangedFile } from "../src/lifecycle/classify.js";

const f = (path: string, status: ChangedFile["status"] = "added", previousPath?: string): ChangedFile => ({ path, status, blobSha: "x", ...(previousPath ? { previousPath } : {}) });
const messages = (k: ReturnType<typeof classifyPullRequest>) => (k.kind === "malformed" ? k.diagnostics.map((d) => `${d.path}: ${d.message}`) : []);

describe("classifying a pull request by its files", () => {
  it("one added grant file is a request", () => {
    expect(classifyPullRequest([f("grants/prod-db/a.yaml")], 1)).toEqual({ kind: "request", file: f("grants/prod-db/a.yaml") });
    expect(classifyPullRequest([f("grants/prod-db/a.yml")], 1).kind).toBe("request");
  });
  it("files outside grants/ and the policy are not ours", () => {
    expect(classifyPullRequest([f("README.md", "modified")], 1)).toEqual({ kind: "unrelated" });
  });
  it("the policy file alone is a policy change", () => {
    expect(classifyPullRequest([f(".github/jit-access.yml", "modified")], 1).kind).toBe("policy-change");
  });
  it("the policy with other files outside grants/ is a policy change (its owners still judge the policy part)", () => {
    expect(classifyPullRequest([f(".github/jit-access.yml", "modified"), f("docs/access.md", "modified")], 2)).toEqual({ kind: "policy-change", file: f(".github/jit-access.yml", "modified"), codeowners: [] });
  });
  it("deleting or renaming the policy is refused", () => {
    expect(messages(classifyPullRequest([f(".github/jit-access.yml", "removed")], 1))).toHaveLength(1);
    expect(classifyPullRequest([f(".github/other.yml", "renamed", ".github/jit-access.yml")], 1).kind).toBe("malformed");
  });
  it("a grant and the policy together are refused", () => {
    expect(messages(classifyPullRequest([f("grants/prod-db/a.yaml"), f(".github/jit-access.yml", "modified")], 2))).toEqual([
      ".github/jit-access.yml: change the policy in a pull request of its own: a request is judged by the policy already on the default branch",
    ]);
  });
  it("only deletions under grants/ are a removal", () => {
    expect(classifyPullRequest([f("grants/prod-db/a.yaml", "removed")], 1).kind).toBe("removal");
  });
  it("editing or renaming a committed grant is refused", () => {
    expect(messages(classifyPullRequest([f("grants/prod-db/a.yaml", "modified")], 1))).toEqual([
      "grants/prod-db/a.yaml: grant files cannot be changed once committed; open a new request instead",
    ]);
    expect(classifyPullRequest([f("grants/prod-db/b.yaml", "renamed", "grants/prod-db/a.yaml")], 1).kind).toBe("malformed");
    // Moving a file into grants/ from elsewhere is a rename, not an addition.
    expect(classifyPullRequest([f("grants/prod-db/b.yaml", "renamed", "notes/b.yaml")], 1).kind).toBe("malformed");
  });
  it("two grant files are refused", () => {
    expect(messages(classifyPullRequest([f("grants/prod-db/a.yaml"), f("grants/prod-db/b.yaml")], 2))).toEqual([
      "grants/prod-db/b.yaml: a request adds exactly one grant file; this pull request adds 2",
    ]);
  });
  it.each(["grants/a.yaml", "grants/prod-db/sub/a.yaml", "grants/prod-db/.hidden.yaml", "grants/prod-db/a.json", "grants/../x/a.yaml"])(
    "a grant at a wrong or tricky path (%s) is refused",
    (path) => {
      expect(classifyPullRequest([f(path)], 1).kind).toBe("malformed");
    },
  );
  it("a pull request with more files than GitHub listed is refused", () => {
    expect(messages(classifyPullRequest([f("grants/prod-db/a.yaml")], 301))).toEqual([
      "grants/prod-db/a.yaml: too many files to judge: this pull request changes 301 files and GitHub listed 1; split it so that jit-access can see every file",
    ]);
  });

  it("fails closed on more files than listed, whatever the listed ones are", () => {
    const filler = Array.from({ length: 100 }, (_, i) => f(`.aaa/filler-${i}.txt`, "added"));
    expect(classifyPullRequest(filler, 101).kind).toBe("malformed");
    expect(classifyPullRequest([f("README.md", "modified")], 2).kind).toBe("malformed");
    const all = Array.from({ length: 3000 }, (_, i) => f(`docs/${i}.md`, "added"));
    expect(messages(classifyPullRequest(all, 3001))).toEqual([
      "docs/0.md: too many files to judge: this pull request changes 3001 files and GitHub lists at most 3000; split it so that jit-access can see every file",
    ]);
  });

  it("a CODEOWNERS change is a policy change, with or without the policy file", () => {
    for (const path of [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]) {
      expect(classifyPullRequest([f(path, "modified")], 1)).toEqual({ kind: "policy-change", codeowners: [f(path, "modified")] });
    }
    expect(classifyPullRequest([f(".github/jit-access.yml", "modified"), f(".github/CODEOWNERS", "modified")], 2)).toEqual({
      kind: "policy-change",
      file: f(".github/jit-access.yml", "modified"),
      codeowners: [f(".github/CODEOWNERS", "modified")],
    });
    // Moving CODEOWNERS away (so another file, or none, is in force) is one too.
    expect(classifyPullRequest([f("OWNERS.old", "renamed", "CODEOWNERS")], 1).kind).toBe("policy-change");
    expect(classifyPullRequest([f(".github/CODEOWNERS", "removed")], 1).kind).toBe("policy-change");
    expect(messages(classifyPullRequest([f("grants/prod-db/a.yaml"), f("CODEOWNERS", "modified")], 2))).toEqual([
      "CODEOWNERS: change CODEOWNERS in a pull request of its own: a request is judged by the CODEOWNERS already on the default branch",
    ]);
  });
});
