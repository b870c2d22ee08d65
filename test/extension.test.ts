import { describe, expect, it } from "@jest/globals";
import { extendedRequest, extensionCandidates, extensionLinks, isExtensionOf, MAX_EXTENSION_CANDIDATES, MAX_EXTENSION_LINKS } from "../src/lifecycle/extension.js";
import { readState, type CommentState } from "../src/lifecycle/codec.js";
import { statusComment } from "../src/present/comment.js";

const original: CommentState = {
  v: 1, status: "APPROVED", expires_at: "2026-11-29T14:00:00.000Z",
  grant: { requester: "Alice", resource: "prod-db", role: "read-only", duration: "2h", reason: "INC-1" },
};
const request = (o: Partial<NonNullable<CommentState["grant"]>> = {}, status: CommentState["status"] = "PENDING"): CommentState => ({
  v: 1, status, grant: { requester: "alice", resource: "prod-db", role: "read-only", duration: "1h", reason: "overran", start: "2026-11-29T14:00:00Z", ...o },
});

describe("which request extends which", () => {
  it("reads the original from an 'Extends #N' line of the PR body, and nothing else", () => {
    expect(extendedRequest("Extends #12: starts when its window ends, at 2026-11-29T14:00:00Z.")).toBe(12);
    expect(extendedRequest("Context first.\nExtends #7")).toBe(7);
    expect(extendedRequest("This extends #12")).toBeUndefined();
    expect(extendedRequest("Extends #12345678901")).toBeUndefined();
    expect(extendedRequest(null)).toBeUndefined();
  });

  it("is an extension only with the same requester (any case), resource and role, starting at the original's end", () => {
    expect(isExtensionOf(original, request())).toBe(true);
    expect(isExtensionOf(original, request({ start: "2026-11-29T15:00:00+01:00" }))).toBe(true); // the same instant
    expect(isExtensionOf(original, request({ requester: "mallory" }))).toBe(false);
    expect(isExtensionOf(original, request({ resource: "prod-admins" }))).toBe(false);
    expect(isExtensionOf(original, request({ role: "admin" }))).toBe(false);
    expect(isExtensionOf(original, request({ start: "2026-11-29T14:00:01Z" }))).toBe(false);
    expect(isExtensionOf(original, request({ start: undefined }))).toBe(false);
    expect(isExtensionOf(original, request({}, null))).toBe(false); // an invalid request has no status
    expect(isExtensionOf(original, request({}, "REJECTED"))).toBe(false);
    expect(isExtensionOf(original, request({}, "APPROVED"))).toBe(true);
    expect(isExtensionOf(original, undefined)).toBe(false); // no record: the app never judged it
    expect(isExtensionOf({ ...original, expires_at: undefined }, request())).toBe(false);
  });

  const by = (author: string, ...numbers: number[]) => numbers.map((number) => ({ number, author }));

  it("looks at the newest few mentions by the requester not linked yet, never the request itself", () => {
    expect(extensionCandidates(5, "Alice", [...by("alice", 3, 9, 5, 9, 11, 12), ...by("mallory", 15, 16, 17), ...by("ALICE", 14)], [12])).toEqual([14, 11, 9]);
    expect(MAX_EXTENSION_CANDIDATES).toBe(3);
    expect(extensionCandidates(5, "alice", by("mallory", 6, 7, 8))).toEqual([]); // nobody else's mention costs a request
    expect(extensionLinks({ ...original, extended_by: [9] }, [4, 9])).toEqual([4, 9]); // checked now: what was verified
    expect(extensionLinks({ ...original, extended_by: [9] }, undefined)).toEqual([9]); // not checked: what the record holds
  });

  it("stops looking once the links are full: the record has a size limit", () => {
    const full = Array.from({ length: MAX_EXTENSION_LINKS }, (_, i) => 100 + i);
    expect(extensionCandidates(5, "alice", by("alice", 1, 2), full)).toEqual([]);
    expect(extensionCandidates(5, "alice", by("alice", 1, 2), full.slice(1))).toEqual([2]);
  });
});

describe("the link in the status comment", () => {
  const live: CommentState = {
    ...original, status: "APPROVED", starts_at: "2026-11-29T12:00:00.000Z", applied_at: "2026-11-29T12:00:01.000Z",
    target: { provider: "github-team", config: { org: "acme", team: "ops" }, grant: {} },
  };
  const ctx = { defaultBranch: "main", policy: { ok: false as const, diagnostics: [] } };
  const draw = (record: CommentState) => statusComment(ctx, record, { kind: "record" });

  it("shows every extension above the footer, and the record names them", () => {
    const linked = draw({ ...live, extended_by: [14] });
    expect(linked).toContain("➡️ **Continued by** #14: a request to extend this grant from its end");
    expect(linked.indexOf("Continued by")).toBeGreaterThan(linked.indexOf("Access granted"));
    expect(linked.indexOf("Continued by")).toBeLessThan(linked.indexOf("<sub>Updated"));
    expect(readState(linked)).toEqual({ ...live, extended_by: [14] });
  });

  it("draws one section however many links, and the same record always draws the same text", () => {
    const twice = draw({ ...live, extended_by: [14, 15] });
    expect(twice.match(/Continued by/g)).toHaveLength(1);
    expect(twice).toContain("#14, #15");
    expect(draw({ ...live, extended_by: [14, 15] })).toBe(twice);
  });

  it("draws no section when the record links nothing (the last was rejected)", () => {
    expect(draw(live)).not.toContain("Continued by");
    expect(draw({ ...live, extended_by: [] })).not.toContain("Continued by");
  });
});
