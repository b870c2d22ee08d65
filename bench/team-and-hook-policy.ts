/**
 * The policy of the burst and the full-lifecycle benches: a `github-team` resource (its membership
 * PUT and DELETE are GitHub writes too) and one through a provider outside GitHub (the webhook
 * provider's place; the benches record its calls in memory).
 */
export const TEAM_AND_HOOK_POLICY = `version: 1
resources:
  team:
    provider: github-team
    config: { org: acme, team: prod-admins }
    roles:
      member: { max_duration: 8h }
  hook:
    provider: webhook
    config: { url_env: JIT_HOOK_URL, secret_env: JIT_HOOK_SECRET }
    roles:
      operator: { max_duration: 8h, grant: { scope: refunds } }
`;
