import { recordKey } from "../src/github/record.js";
import { embedState, type CommentState } from "../src/lifecycle/codec.js";
import { STATUS_LABELS } from "../src/lifecycle/status.js";
import type { FakeGitHub } from "./fake-github.js";
import { blobSha } from "./fake/git.js";
import { openRequest } from "./people.js";

/**
 * Live grants as a running app leaves them, made through GitHub's routes: the request PR opened by
 * its requester and merged (its grant file on main, the merge commit linked to it), and the app's
 * record in its `jit-access` check run on the PR's head, with the status comment and label shown.
 */
export const BENCH_POLICY = `version: 1
resources:
  prod-admins:
    provider: github-team
    config: { org: acme, team: prod-admins }
    roles:
      member: { max_duration: 8h }
`;

export const ref = { owner: "acme", repo: "access" };

export function accessRepository(fake: FakeGitHub, requesters: string[]): void {
  fake.addRepo("acme", "access", { ".github/jit-access.yml": BENCH_POLICY, ".github/CODEOWNERS": "* @acme/platform\n" }, { writers: requesters });
}

export async function seedLiveGrant(fake: FakeGitHub, requester: string, window: { appliedAt: Date; expiresAt: Date }, provider = "github-team"): Promise<number> {
  const person = fake.as(requester);
  const path = `grants/prod-admins/${requester}.yaml`;
  const content = `requester: ${requester}\nresource: prod-admins\nrole: member\nduration: 2h\nreason: "benchmark grant of ${requester}"\n`;
  const number = (await openRequest(person, ref, { branch: `request-${requester}`, path, content }))!;
  const head = fake.pull("acme/access", number).headSha;
  await person.rest.pulls.merge({ ...ref, pull_number: number, merge_method: "squash" });
  const state: CommentState = {
    v: 1, status: "APPROVED",
    // As the app records it (lifecycle/complete.ts): the grant file and the blob it judged.
    path, blob: blobSha(content),
    grant: { requester, resource: "prod-admins", role: "member", duration: "2h", reason: `benchmark grant of ${requester}` },
    standing: [], applied_at: window.appliedAt.toISOString(), starts_at: window.appliedAt.toISOString(), expires_at: window.expiresAt.toISOString(),
    warned_at: window.appliedAt.toISOString(), target: { provider, config: { org: "acme", team: "prod-admins" }, grant: {} },
  };
  const body = embedState("🟢 Access granted", state);
  const app = fake.client();
  await app.rest.checks.create({ ...ref, name: "jit-access", external_id: recordKey({ repoId: fake.repo(ref.owner, ref.repo)!.id, number }), head_sha: head, status: "completed", conclusion: "success", output: { title: "Approved", summary: "approved", text: body } });
  await app.rest.issues.createComment({ ...ref, issue_number: number, body });
  await app.rest.issues.addLabels({ ...ref, issue_number: number, labels: [STATUS_LABELS.APPROVED] });
  return number;
}
