import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { evaluatePullRequest } from "../src/handlers/evaluate.js";
import { providerFactory } from "../src/providers/registry.js";
import { FakeGitHub } from "../testkit/fake-github.js";
import { serveFake } from "../testkit/fake-server.js";

/**
 * `npm run transcripts`: the `jit` command as people run it — the built binary, in its own process,
 * with a token and GITHUB_API_URL — against the in-memory GitHub served over HTTP, while this
 * process plays the app (its real evaluation, the real `github-team` provider) and the approvers.
 * Prints each command and what it wrote: docs/reference/cli.md's transcripts come from here. Times are real.
 */
const APP_ID = 1;
const ref = { owner: "acme", repo: "access" };
const POLICY = `version: 1
defaults: { max_duration: 8h, reason_min_length: 10, pending_timeout: 24h, merge: auto }
requesters: ["@acme/engineering"]
resources:
  prod-admins:
    description: Admin access to production
    provider: github-team
    config: { org: acme, team: prod-admins }
    roles:
      member: { max_duration: 4h }
`;
const CODEOWNERS = "*                     @acme/security\n/grants/prod-admins/  @acme/platform @acme/security\n";
const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

const fake = new FakeGitHub({ appId: APP_ID, now: () => new Date() });
const repo = fake.addRepo("acme", "access", { ".github/jit-access.yml": POLICY, ".github/CODEOWNERS": CODEOWNERS }, { writers: ["alice", "frank", "carol", "dave"] });
for (const login of ["alice", "frank"]) fake.addMember("@acme/engineering", login);
fake.addMember("@acme/platform", "carol");
fake.addMember("@acme/security", "dave");
const people = Object.fromEntries(["alice", "frank", "carol", "dave"].map((login) => [login, fake.as(login)]));
const { server, url } = await serveFake(fake);

/** One `jit` run: its command line, then what it printed, as a console transcript. */
async function jit(login: string, args: string[], note = "", cwd?: string): Promise<void> {
  const env = { PATH: process.env.PATH ?? "", GITHUB_TOKEN: `fake_person_${login}`, GITHUB_API_URL: url, JIT_APP_ID: String(APP_ID) };
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number }>((resolve) =>
    execFile(process.execPath, [CLI, ...args], { env, ...(cwd ? { cwd } : {}) }, (error, stdout, stderr) => resolve({ stdout, stderr, code: error ? Number(error.code ?? 1) : 0 })),
  );
  const shown = args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(" ");
  console.log(`${login}$ jit ${shown}${note ? `      # ${note}` : ""}`);
  process.stdout.write(stdout + stderr.replace(/^/gm, ""));
  if (code !== 0) console.log(`(exit ${code})`);
  console.log();
}

/** What the app does on each webhook for #n: one evaluation, plus the follow-on one an extension asks for. */
async function app(number: number): Promise<void> {
  const log = { info() {}, warn() {}, error: (m: string) => console.error(`app: ${m}`) };
  const deps = { appId: APP_ID, now: () => new Date(), providers: providerFactory({}) };
  const { affected } = await evaluatePullRequest(fake.client(), { ...ref, number }, deps, log);
  for (const other of affected) await evaluatePullRequest(fake.client(), other, deps, log);
}

const approve = async (login: string, number: number) => {
  await people[login]!.rest.pulls.createReview({ ...ref, pull_number: number, event: "APPROVE" });
  await app(number);
};
const newest = () => Math.max(...repo.pulls.keys());

try {
  await jit("alice", ["request", "prod-admins", "--role", "member", "--duration", "2h", "--reason", "Rotate the deploy keys after INC-4211", "--repo", "acme/access"]);
  const granted = newest();
  await app(granted);
  await approve("carol", granted);
  await approve("dave", granted); // the last group: the app merges it, then applies it
  await app(granted);
  await jit("frank", ["request", "prod-admins", "--role", "member", "--duration", "1h", "--reason", "Check the failover runbook", "--repo", "acme/access"]);
  await app(newest());
  await jit("carol", ["inbox", "--repo", "acme/access"]);
  await jit("alice", ["status", "--repo", "acme/access"]);
  await jit("alice", ["extend", String(granted), "--by", "1h", "--reason", "Key rotation still running", "--repo", "acme/access"]);
  const extension = newest();
  await app(extension);
  await jit("alice", ["extend", String(granted), "--by", "5h", "--reason", "Key rotation still running", "--repo", "acme/access"]);
  await jit("frank", ["extend", String(granted), "--by", "1h", "--reason", "I will finish it for alice", "--repo", "acme/access"]);
  await jit("dave", ["inbox", "--repo", "acme/access"]);
  const original = fake.pull("acme/access", granted).comments.find((c) => c.appId === APP_ID)?.body ?? "";
  console.log(`#${granted}'s status comment, as the app left it once #${extension} was judged:\n`);
  console.log(original.replace(/<!--[\s\S]*?-->\n?/g, "").trim());
  console.log();
  // The app answers the command the CLI posts (on GitHub, its issue_comment webhook) while the CLI waits.
  let waiting = true;
  const answering = (async () => {
    while (waiting) {
      await new Promise((r) => setTimeout(r, 200));
      await app(granted);
    }
  })();
  await jit("alice", ["revoke", String(granted), "--reason", "done early", "--repo", "acme/access"]);
  waiting = false;
  await answering;
  await jit("alice", ["status", "--repo", "acme/access"]);
  await planTranscript();
} finally {
  server.close();
}

/**
 * `jit plan` needs no GitHub: a clone of the access repository with main and a branch that changes
 * the policy and CODEOWNERS (made here with git, in a temporary folder).
 */
async function planTranscript(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "jit-plan-transcript-"));
  const git = (...args: string[]) => execFileSync("git", ["-C", dir, "-c", "user.name=dave", "-c", "user.email=dave@example.invalid", ...args], { stdio: "ignore" });
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  try {
    git("init", "-q", "-b", "main");
    write(".github/jit-access.yml", POLICY);
    write(".github/CODEOWNERS", CODEOWNERS);
    git("add", "-A");
    git("commit", "-qm", "policy");
    git("checkout", "-qb", "oncall-access");
    write(".github/jit-access.yml", POLICY.replace("member: { max_duration: 4h }", 'member: { max_duration: 8h, auto_approve: ["@acme/oncall"] }\n      viewer: { max_duration: 1h }').replace("reason_min_length: 10", "reason_min_length: 20"));
    write(".github/CODEOWNERS", CODEOWNERS.replace("@acme/platform @acme/security", "@acme/platform"));
    git("commit", "-qam", "on-call engineers get prod-admins without waiting");
    await jit("dave", ["plan", "--base", "main"], "", dir);
    await jit("dave", ["plan", "--base", "main", "--json"], "", dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
