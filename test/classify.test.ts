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
    expect(classifyPullRequest([f(".github/jit-access.yml", "modified"), f("docs/access.md", "modified")], 2)).toEqual({ kind: "policy-change", file: f(".github/jit-access.yml", "modified") });
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
      "grants/prod-db/a.yaml: this pull request changes 301 files; a request adds exactly one grant file",
    ]);
  });
});
