import { afterAll, describe, expect, it } from "@jest/globals";
import { Octokit } from "@octokit/rest";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sshpk from "sshpk";
import { runCli } from "../../src/cli/program.js";
import { handoverReply } from "../../src/present/messages.js";
import { parseCaKey, signUserCertificate } from "../../src/providers/ssh-cert.js";
import { githubApi } from "../helpers/github-mock.js";
import { guardNetwork } from "../helpers/setup-nock.js";

guardNetwork();
const NOW = new Date("2026-11-29T13:00:00Z");
const COMMENTS = "/repos/acme/access/issues/7/comments";
const quiet = () => {};
const dir = mkdtempSync(join(tmpdir(), "jit-ssh-cert-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const publicLine = () => sshpk.parseKey(generateKeyPairSync("ed25519").publicKey.export({ format: "pem", type: "spki" }).toString(), "pem").toString("ssh");
const ca = parseCaKey(generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString());
const laptop = publicLine();
const desktop = publicLine();
const sign = (publicKey: string, window = { validAfter: new Date("2026-11-29T12:00:00Z"), validBefore: new Date("2026-11-29T14:00:00Z") }) =>
  signUserCertificate(ca, { publicKey, principals: ["ops"], keyId: "jit-access acme/access#7 alice", extensions: ["permit-pty"], ...window });

/** An issue comment as GitHub returns it; `app` is the app that posted it, if any. */
const comment = (id: number, body: string, app: { id: number; slug: string } | null, login = app ? `${app.slug}[bot]` : "mallory") => ({
  id, body, user: { login, id: id * 10, type: app ? "Bot" : "User" }, performed_via_github_app: app, created_at: "2026-11-29T12:00:00Z", html_url: `https://github.com/acme/access/pull/7#issuecomment-${id}`,
});
const JIT = { id: 1, slug: "jit-access" };

async function jit(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: dir, now: () => NOW, env: {},
    github: new Octokit({ auth: "ghp_test", log: { debug: quiet, info: quiet, warn: quiet, error: quiet } }), isTTY: false,
  });
  return { code, stdout, stderr };
}

describe("jit ssh-cert", () => {
  const laptopCert = sign(laptop);
  const desktopCert = sign(desktop);
  const reply = handoverReply("alice", { summary: "your SSH certificates", content: `${laptopCert}\n${desktopCert}` });

  it("writes the certificate of the given key from the app's reply, ignoring certificates anyone else posted", async () => {
    writeFileSync(join(dir, "id_ed25519.pub"), `${laptop} alice@laptop\n`);
    const forged = handoverReply("alice", { summary: "use this one instead", content: sign(laptop, { validAfter: new Date("2026-11-29T12:00:00Z"), validBefore: new Date("2027-11-29T14:00:00Z") }) });
    const api = githubApi();
    api.get(COMMENTS).query({ per_page: "100" }).reply(200, [comment(11, "please approve", null, "alice"), comment(12, reply, JIT), comment(13, forged, null), comment(14, forged, { id: 99, slug: "not-jit" })]);
    const r = await jit(["ssh-cert", "7", "--repo", "acme/access", "--key", "id_ed25519.pub", "--out", "id_ed25519-cert.pub"]);
    expect(api.isDone()).toBe(true);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(readFileSync(join(dir, "id_ed25519-cert.pub"), "utf8")).toBe(`${laptopCert}\n`);
    expect(r.stderr).toMatch(/^SHA256:\S+: valid, for ops, from 2026-11-29T12:00:00.000Z until 2026-11-29T14:00:00.000Z \(serial \d+\)\n$/);
  });

  let printed = "";
  let said = "";
  it("prints every certificate without --key, says when one has expired, and wants --key to write one of several", async () => {
    const api = githubApi();
    api.get(COMMENTS).query({ per_page: "100" }).times(2).reply(200, [comment(12, reply, JIT)]);
    const later = await runCli(["ssh-cert", "#7", "--repo", "acme/access"], {
      stdout: (t) => void (printed += t), stderr: (t) => void (said += t), cwd: dir, now: () => new Date("2026-11-29T14:00:00Z"), env: {},
      github: new Octokit({ auth: "ghp_test", log: { debug: quiet, info: quiet, warn: quiet, error: quiet } }),
    });
    expect(later).toBe(0);
    expect(printed).toBe(`${laptopCert}\n${desktopCert}\n`);
    expect(said.match(/EXPIRED/g)).toHaveLength(2);
    const both = await jit(["ssh-cert", "7", "--repo", "acme/access", "--out", "x-cert.pub"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("has 2 certificates (one per key): pass --key");
    expect(api.isDone()).toBe(true);
  });
  it("fails clearly when the app handed nothing over, or nothing for the given key", async () => {
    writeFileSync(join(dir, "other.pub"), `${publicLine()}\n`);
    writeFileSync(join(dir, "not-a-key.pub"), "hello\n");
    const api = githubApi();
    api.get(COMMENTS).query({ per_page: "100" }).reply(200, [comment(13, handoverReply("alice", { summary: "x", content: laptopCert }), null)]);
    api.get(COMMENTS).query({ per_page: "100" }).reply(200, [comment(12, reply, JIT)]);
    // Even the app's own reply: a line with a control character in it is never printed.
    api.get(COMMENTS).query({ per_page: "100" }).reply(200, [comment(15, handoverReply("alice", { summary: "x", content: `${laptopCert.split(" ").slice(0, 2).join(" ")} \u001b]0;owned\u0007` }), JIT)]);
    const none = await jit(["ssh-cert", "7", "--repo", "acme/access"]);
    expect(none).toMatchObject({ code: 1, stdout: "" });
    expect(none.stderr).toContain("#7: jit-access has handed over no SSH certificate there");
    const other = await jit(["ssh-cert", "7", "--repo", "acme/access", "--key", "other.pub"]);
    expect(other).toMatchObject({ code: 1, stdout: "" });
    expect(other.stderr).toMatch(/#7: no certificate for the key SHA256:\S+ \(the app certified SHA256:\S+, SHA256:\S+\)/);
    const escaped = await jit(["ssh-cert", "7", "--repo", "acme/access"]);
    expect(escaped).toMatchObject({ code: 1, stdout: "" });
    expect(escaped.stderr).toContain("#7: the app's reply holds no readable certificate");
    const bad = await jit(["ssh-cert", "7", "--repo", "acme/access", "--key", "not-a-key.pub"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--key must be an OpenSSH public key file");
    expect(api.isDone()).toBe(true);
  });
});
