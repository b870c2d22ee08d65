/**
 * The README's one-minute tour: the policy, the CODEOWNERS and the grant file it shows. One copy,
 * used three ways: the README shows these texts (test/docs.test.ts checks it word for word), the
 * docs test runs `jit validate` on them, and `npm run docs:images` plays them through the real app
 * to take the pictures in docs/images/.
 */
export const TOUR_POLICY = `version: 1
defaults:
  max_duration: 8h
  reason_min_length: 10
  pending_timeout: 24h
  merge: auto                  # the app merges a request once every group approved
requesters: ["@acme/engineering"]
resources:
  prod-admins:
    description: Admin access to production
    provider: github-team
    config: { org: acme, team: prod-admins }
    roles:
      member:
        max_duration: 4h
        approvals: { min_per_group: 1, mode: all }
break_glass:
  approvers: ["@acme/oncall"]
  max_duration: 1h
`;

export const TOUR_CODEOWNERS = `/.github/jit-access.yml  @acme/security
/grants/prod-admins/     @acme/platform @acme/security
`;

export const TOUR_GRANT_PATH = "grants/prod-admins/alice-2026-12-07.yaml";

export const TOUR_GRANT = `requester: alice
resource: prod-admins
role: member
duration: 2h
reason: "Rotate the deploy keys after INC-4211"
ticket: INC-4211
`;
