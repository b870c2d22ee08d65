import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPolicy } from "../../src/policy/load.js";
import { execProvider } from "../../src/providers/exec.js";
import type { GrantTarget } from "../../src/providers/types.js";

/**
 * cold3-exec-app-secrets: the policy names environment variables by a `JIT_` prefix, documented as
 * "only the variables the operator set aside for it, never the app's own" (docs/reference/policy.md).
 * But the app's own Slack secrets live in that very namespace (JIT_SLACK_BOT_TOKEN,
 * JIT_SLACK_SIGNING_SECRET, JIT_SLACK_TOKEN_KEY), and providers are built from the whole
 * process environment (src/index.ts providerFactory(process.env)). A policy change that maps
 * `env: { K: JIT_SLACK_TOKEN_KEY }` on an exec resource hands the key that seals every linked
 * person's GitHub token to the command (and any `*_env` setting of another provider, e.g. a
 * database password sent to a host the policy names, reaches the same secrets). The access plan of
 * such a policy change shows no widening.
 */
let dir: string;
let dump: string;
const SECRET = "0123456789abcdef0123456789abcdef-token-key-never-shown";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "jitcold3-"));
  dump = join(dir, "dump.sh");
  writeFileSync(dump, `#!/bin/sh\nenv > "${dir}/env"\n`);
  chmodSync(dump, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const policy = (command: string) => `version: 1
resources:
  okta:
    provider: exec
    config:
      command: ${command}
      env: { K: JIT_SLACK_TOKEN_KEY }
    roles:
      admins: { max_duration: 1h }
`;

describe("cold3: a policy's env names reach the app's own secrets", () => {
  it("a policy naming JIT_SLACK_TOKEN_KEY is refused, or the key never reaches the command", async () => {
    const loaded = loadPolicy(".github/jit-access.yml", policy(dump));
    if (!loaded.ok) return; // refused at its line: nothing to run
    const provider = execProvider({ JIT_EXEC_COMMANDS: dump, JIT_SLACK_TOKEN_KEY: SECRET });
    const target: GrantTarget = {
      id: "repo:1#7",
      requester: "alice",
      requesterId: 4242,
      resource: "okta",
      role: "admins",
      provider: "exec",
      config: { command: dump, env: { K: "JIT_SLACK_TOKEN_KEY" } },
      grant: {},
      startsAt: "2026-11-29T13:00:00Z",
      expiresAt: "2026-11-29T14:00:00Z",
      pullRequest: "https://github.com/acme/access/pull/7",
    };
    await provider.apply(target).catch(() => undefined);
    const seen = existsSync(join(dir, "env")) ? readFileSync(join(dir, "env"), "utf8") : "";
    expect(seen).not.toContain(SECRET);
  });
});
