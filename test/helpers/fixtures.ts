import { createHash } from "node:crypto";

/** A realistic access-repository policy, as docs/reference/policy.md describes it. */
export const POLICY = `version: 1
defaults:
  max_duration: 8h
  reason_min_length: 10
  pending_timeout: 24h
  expiry_warning: 10m
  merge: auto
requesters: ["@acme/engineering"]
admins: ["@acme/security"]
resources:
  prod-db:
    description: Production PostgreSQL
    provider: postgres
    config: { url_env: JIT_PROD_DB_URL }
    roles:
      read-only:
        max_duration: 4h
        pending_timeout: 4h
        grant: { roles: [analytics_read] }
        approvals: { min_per_group: 1, mode: all }
      read-write:
        max_duration: 2h
        ticket_pattern: "^INC-[0-9]+$"
        grant: { roles: [app_write] }
        approvals: { min_per_group: 1, mode: all }
  prod-admins:
    provider: github-team
    config: { org: acme, team: prod-admins }
    roles:
      member: { max_duration: 8h }
break_glass:
  approvers: ["@acme/oncall"]
  max_duration: 1h
`;

/** The same without the requesters allow-list: anyone with PR access may request. */
export const OPEN_POLICY = POLICY.replace('requesters: ["@acme/engineering"]\n', "");

export const CODEOWNERS = `# Access repository owners
*                       @acme/security
/grants/prod-db/        @acme/dba @acme/security
/grants/prod-admins/    @acme/platform
`;

export function grantYaml(fields: Record<string, string | boolean | undefined> = {}): string {
  const all: Record<string, string | boolean | undefined> = {
    requester: "alice",
    resource: "prod-db",
    role: "read-only",
    duration: "2h",
    reason: '"Investigate INC-4211: slow checkout queries"',
    ...fields,
  };
  return Object.entries(all)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join("\n") + "\n";
}

/** Git's blob SHA of a content: what the PR files list and the contents API report. */
export function blobSha(content: string | Buffer): string {
  const bytes = Buffer.from(content);
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** A contents API response for a file. */
export function contents(path: string, content: string | Buffer): Record<string, unknown> {
  const bytes = Buffer.from(content);
  return { type: "file", encoding: "base64", size: bytes.length, name: path.split("/").pop(), path, content: bytes.toString("base64"), sha: blobSha(bytes) };
}

export const HEAD = "a".repeat(40);
export const OLD_HEAD = "b".repeat(40);

/** What a reader sees of rendered Markdown: escapes and the zero-width spaces that break mentions removed. */
export function visible(markdown: string): string {
  return markdown.replace(/\\([\\`*_{}[\]()#+\-.!|<>~&])/g, "$1").replace(/\u200b/g, "");
}
