import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { Octokit } from "@octokit/rest";
import { readCertificate } from "../../src/providers/ssh-cert.js";
import { sshProvider } from "../../src/providers/ssh.js";
import { ProviderError, unitsToRevoke, type Applied, type GrantTarget } from "../../src/providers/types.js";
import { githubApi } from "../helpers/github-mock.js";
import { guardNetwork } from "../helpers/setup-nock.js";
import { sshdAvailability, startSshd, type TestSshd } from "../helpers/sshd.js";

guardNetwork();
const availability = sshdAvailability();
if ("missing" in availability) {
  console.warn(`\n${"!".repeat(80)}\n!! ssh provider tests NOT RUN: ${availability.missing}\n${"!".repeat(80)}\n`);
}
const describeSshd = "ok" in availability ? describe : describe.skip;

const quiet = () => {};
const gh = new Octokit({ auth: "ghs_test", log: { debug: quiet, info: quiet, warn: quiet, error: quiet } });
const MINUTE = 60_000;
const at = (offsetMs: number) => new Date(Math.floor((Date.now() + offsetMs) / 1000) * 1000).toISOString();

const target = (id: string, window: { startsAt: string; expiresAt: string }, extra: Partial<GrantTarget> = {}): GrantTarget => ({
  id,
  requester: "alice",
  resource: "prod-hosts",
  role: "ops",
  provider: "ssh",
  config: { ca_key_env: "JIT_SSH_CA_KEY" },
  grant: { principals: ["ops"] },
  pullRequest: "https://github.com/acme/access/pull/7",
  ...window,
  ...extra,
});

function certificatesOf(applied: Applied | void): string[] {
  expect(applied?.handover).toBeDefined();
  return applied!.handover!.content.split("\n");
}

let sshd: TestSshd;
let env: Record<string, string>;

describeSshd("the ssh provider, against a real sshd that trusts the CA", () => {
  beforeAll(async () => {
    sshd = await startSshd(["ops"]);
    env = { JIT_SSH_CA_KEY: sshd.caPrivateKey };
  }, 30_000);
  afterAll(() => sshd?.stop());

  it("signs a certificate that sshd accepts during the window, and refuses before and after it", async () => {
    const alice = sshd.keyPair("alice");
    const config = { ca_key_env: "JIT_SSH_CA_KEY", public_keys: { Alice: [alice.publicKey] } };
    const provider = sshProvider(env, gh);
    const during = target("acme/access#7", { startsAt: at(-MINUTE), expiresAt: at(10 * MINUTE) }, { config });
    const before = target("acme/access#8", { startsAt: at(10 * MINUTE), expiresAt: at(20 * MINUTE) }, { config });
    const after = target("acme/access#9", { startsAt: at(-20 * MINUTE), expiresAt: at(-10 * MINUTE) }, { config });

    const [now] = certificatesOf(await provider.apply(during));
    const ok = await sshd.login(alice.privateKeyFile, now!);
    expect(ok.stdout.trim()).toBe("logged-in"); // else see ok.stderr: ssh and sshd say why
    expect(ok.code).toBe(0);

    for (const [t, why] of [[before, "not yet valid"], [after, "expired"]] as const) {
      const [cert] = certificatesOf(await provider.apply(t));
      const refused = await sshd.login(alice.privateKeyFile, cert!);
      expect(refused.code).not.toBe(0);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toContain(`Certificate invalid: ${why}`);
    }
  }, 60_000);

  it("is valid exactly for the window, names the grant and the requester, and carries only the role's principals", async () => {
    const alice = sshd.keyPair("alice");
    const t = target("acme/access#7", { startsAt: "2026-12-01T10:00:00Z", expiresAt: "2026-12-01T12:30:00Z" }, {
      config: { ca_key_env: "JIT_SSH_CA_KEY", public_keys: { alice: [alice.publicKey] } },
      grant: { principals: ["ops", "{login}"] },
    });
    const [cert] = certificatesOf(await sshProvider(env, gh).apply(t));
    const read = readCertificate(cert!)!;
    expect(read.validAfter.toISOString()).toBe("2026-12-01T10:00:00.000Z");
    expect(read.validBefore.toISOString()).toBe("2026-12-01T12:30:00.000Z");
    expect(read.principals).toEqual(["ops", "alice"]);
    expect(read.keyId).toBe("jit-access acme/access#7 alice");
    // ssh-keygen, OpenSSH's own reader, says the same; and the extensions are permit-pty only.
    const file = `${sshd.dir}/listed-cert.pub`;
    execFileSync("sh", ["-c", `cat > ${file}`], { input: `${cert}\n` });
    const listed = execFileSync("ssh-keygen", ["-L", "-f", file], { encoding: "utf8" });
    expect(listed).toContain('Key ID: "jit-access acme/access#7 alice"');
    expect(listed).toContain(`Serial: ${read.serial}\n`); // as a KRL's `serial:` line takes it
    expect(listed).toMatch(/Extensions: \n\s+permit-pty\n/);
    expect(listed).not.toContain("permit-port-forwarding");
  });

  it("is refused by sshd for a principal the account does not list", async () => {
    const alice = sshd.keyPair("alice");
    const t = target("acme/access#7", { startsAt: at(-MINUTE), expiresAt: at(10 * MINUTE) }, {
      config: { ca_key_env: "JIT_SSH_CA_KEY", public_keys: { alice: [alice.publicKey] } },
      grant: { principals: ["dba"] },
    });
    const [cert] = certificatesOf(await sshProvider(env, gh).apply(t));
    const refused = await sshd.login(alice.privateKeyFile, cert!);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe("");
  }, 30_000);

  it("certifies the requester's public keys from GitHub when the policy lists none, one certificate per key", async () => {
    const ed = sshd.keyPair("gh-ed");
    const ecdsa = sshd.keyPair("gh-ecdsa", "ecdsa");
    const api = githubApi();
    // GitHub's answer (key-simple): an id and the key line; a security key cannot be certified and is skipped.
    api.get("/users/alice/keys").query({ per_page: "100" }).reply(200, [
      { id: 1, key: ed.publicKey },
      { id: 2, key: "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIEX/dQ0v4127bEo8eeG1EV0ApO2lWbSnN6RWusvNgLwBAAAABHNzaDo=" },
      { id: 3, key: ecdsa.publicKey },
    ]);
    const certs = certificatesOf(await sshProvider(env, gh).apply(target("acme/access#7", { startsAt: at(-MINUTE), expiresAt: at(10 * MINUTE) })));
    expect(api.isDone()).toBe(true);
    expect(certs).toHaveLength(2);
    expect(certs[0]).toMatch(/^ssh-ed25519-cert-v01@openssh\.com /);
    expect(certs[1]).toMatch(/^ecdsa-sha2-nistp256-cert-v01@openssh\.com /);
    expect((await sshd.login(ed.privateKeyFile, certs[0]!)).code).toBe(0);
    expect((await sshd.login(ecdsa.privateKeyFile, certs[1]!)).code).toBe(0);
    // A certificate belongs to its key: another key cannot use it.
    expect((await sshd.login(ecdsa.privateKeyFile, certs[0]!)).code).not.toBe(0);
  }, 60_000);

  it("fails clearly, handing nothing over, when the requester has no usable key on GitHub or no account", async () => {
    const api = githubApi();
    api.get("/users/alice/keys").query({ per_page: "100" }).reply(200, []);
    api.get("/users/alice/keys").query({ per_page: "100" }).reply(404, { message: "Not Found" });
    const t = target("acme/access#7", { startsAt: at(-MINUTE), expiresAt: at(10 * MINUTE) });
    await expect(sshProvider(env, gh).apply(t)).rejects.toThrow(/alice has no Ed25519, ECDSA or RSA public key on GitHub/);
    await expect(sshProvider(env, gh).apply(t)).rejects.toThrow(/there is no GitHub account named alice/);
    expect(api.isDone()).toBe(true);
  });

  it("has nothing to undo at the target: held is empty, the grant's one unit is its own, revoke changes nothing", async () => {
    const alice = sshd.keyPair("alice");
    const config = { ca_key_env: "JIT_SSH_CA_KEY", public_keys: { alice: [alice.publicKey] } };
    const provider = sshProvider(env, gh);
    const one = target("acme/access#7", { startsAt: at(-MINUTE), expiresAt: at(10 * MINUTE) }, { config });
    const two = target("acme/access#8", { startsAt: at(-MINUTE), expiresAt: at(20 * MINUTE) }, { config });
    expect(await provider.held(one)).toEqual([]);
    expect(provider.units(one)).toEqual(["ssh:prod-hosts:acme/access#7"]);
    // Overlapping grants never share a unit: each certificate is its own.
    expect(unitsToRevoke(provider, one, [], [{ target: two, standing: [] }])).toEqual(["ssh:prod-hosts:acme/access#7"]);
    const [cert] = certificatesOf(await provider.apply(one));
    await provider.revoke(one, provider.units(one));
    await provider.revoke(one, provider.units(one));
    // The documented limit: a certificate handed over stays valid until its window ends …
    expect((await sshd.login(alice.privateKeyFile, cert!)).code).toBe(0);
    // … unless the hosts list it in their KRL, by the serial the certificate carries (docs/providers/ssh.md).
    sshd.revoke([`serial: ${readCertificate(cert!)!.serial}`]);
    const refused = await sshd.login(alice.privateKeyFile, cert!);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/revoked/i);
  }, 30_000);
});

describe("the ssh provider's refusals", () => {
  const window = { startsAt: "2026-12-01T10:00:00Z", expiresAt: "2026-12-01T12:00:00Z" };
  const alice = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
  const key = `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), Buffer.from(alice.x!, "base64url")]).toString("base64")} alice@laptop`;
  const config = { ca_key_env: "JIT_SSH_CA_KEY", public_keys: { alice: [key] } };

  it("names the variable, never its value, when the CA key is missing or unreadable", async () => {
    await expect(sshProvider({}, gh).apply(target("acme/access#7", window, { config }))).rejects.toThrow("the environment variable JIT_SSH_CA_KEY (ca_key_env) is not set");
    const garbage = "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWJ1dC1icm9rZW4=\n-----END OPENSSH PRIVATE KEY-----\n";
    const error = await sshProvider({ JIT_SSH_CA_KEY: garbage }, gh).apply(target("acme/access#7", window, { config })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toContain("JIT_SSH_CA_KEY (ca_key_env): the CA private key could not be read");
    expect((error as ProviderError).message).not.toContain("c2VjcmV0");
  });

  it("refuses an RSA CA key: sshpk signs with SHA-1, which OpenSSH refuses for certificates", async () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs1" }).toString();
    const error = await sshProvider({ JIT_SSH_CA_KEY: rsa }, gh).apply(target("acme/access#7", window, { config })).catch((e: unknown) => e);
    expect((error as ProviderError).message).toMatch(/the CA private key is RSA: use an Ed25519 or ECDSA CA key/);
    expect((error as ProviderError).retryable).toBe(false);
  });

  it("accepts a CA key stored on one line with \\n escapes (as many secret stores keep it)", async () => {
    const ca = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    const applied = await sshProvider({ JIT_SSH_CA_KEY: ca.replace(/\n/g, "\\n") }, gh).apply(target("acme/access#7", window, { config }));
    const read = readCertificate(certificatesOf(applied)[0]!)!;
    expect(read.principals).toEqual(["ops"]);
  });
});
