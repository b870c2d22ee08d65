import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "../../testkit/redis-server.js";

/**
 * A throwaway OpenSSH server for one test file: its own host key, a user CA it trusts
 * (`TrustedUserCAKeys`), principals per account (`AuthorizedPrincipalsFile`), no other way in
 * (no authorized_keys, no passwords), on a free loopback port. As root the test logs in as a
 * dedicated account (created once, locked against passwords); otherwise as the user running the
 * tests, since an sshd that is not root can only let that user in.
 */
export const SSHD = "/usr/sbin/sshd";

export function sshdAvailability(): { ok: true } | { missing: string } {
  const missing = [SSHD, "/usr/bin/ssh", "/usr/bin/ssh-keygen"].filter((f) => !existsSync(f));
  if (missing.length === 0) return { ok: true };
  const text = `OpenSSH was not found (${missing.join(", ")}); install it (Debian: apt-get install -y openssh-server)`;
  if (process.env.CI) throw new Error(`${text}. Under CI the ssh provider tests must run.`);
  return { missing: text };
}

export interface TestSshd {
  /** The account to log in as. */
  user: string;
  /** The CA's private key (OpenSSH format), as the app reads it from its environment. */
  caPrivateKey: string;
  dir: string;
  /** A new key pair of the requester, made with ssh-keygen: its public line and private key file. */
  keyPair(name: string, type?: "ed25519" | "ecdsa" | "rsa"): { publicKey: string; privateKeyFile: string };
  /** Logs in with the private key and the certificate; resolves with ssh's exit code and output. */
  login(privateKeyFile: string, certificate: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Adds these lines (`serial: 42`, …) to the key revocation list sshd reads at every login (RevokedKeys). */
  revoke(specLines: readonly string[]): void;
  stop(): void;
}

const TEST_USER = "jit-ssh-test";

function ensureUser(): string {
  if (process.getuid?.() !== 0) return userInfo().username;
  try {
    execFileSync("id", [TEST_USER], { stdio: "ignore" });
  } catch {
    execFileSync("useradd", ["-m", "-s", "/bin/sh", TEST_USER], { stdio: "pipe" });
  }
  // '*' is no password at all: without it, `UsePAM no` sshd refuses a locked ("!") account.
  execFileSync("usermod", ["-p", "*", TEST_USER], { stdio: "pipe" });
  return TEST_USER;
}

export async function startSshd(principals: readonly string[]): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), "jitsshd-"));
  // sshd reads the principals file as the account logging in: the directory must let it through.
  chmodSync(dir, 0o755);
  const keygen = (file: string, type = "ed25519") => execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "", "-f", file], { stdio: "pipe" });
  keygen(join(dir, "host"));
  keygen(join(dir, "ca"));
  // An empty KRL to start with: sshd refuses every key while a RevokedKeys file is missing.
  execFileSync("ssh-keygen", ["-q", "-k", "-f", join(dir, "revoked")], { stdio: "pipe" });
  const user = ensureUser();
  mkdirSync(join(dir, "principals"));
  writeFileSync(join(dir, "principals", user), `${principals.join("\n")}\n`);
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true });
  const port = await freePort();
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host")}`,
      `PidFile ${join(dir, "pid")}`,
      `TrustedUserCAKeys ${join(dir, "ca.pub")}`,
      `AuthorizedPrincipalsFile ${join(dir, "principals")}/%u`,
      `RevokedKeys ${join(dir, "revoked")}`,
      "AuthorizedKeysFile none",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );
  const server: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  server.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  await waitForPort(port, () => log);
  let keys = 0;
  return {
    user,
    dir,
    caPrivateKey: readFileSync(join(dir, "ca"), "utf8"),
    keyPair(name, type = "ed25519") {
      const file = join(dir, `${name}-${++keys}`);
      keygen(file, type);
      return { publicKey: readFileSync(`${file}.pub`, "utf8").trim(), privateKeyFile: file };
    },
    login(privateKeyFile, certificate) {
      const certFile = `${privateKeyFile}-cert.pub`;
      writeFileSync(certFile, `${certificate}\n`);
      const args = ["-i", privateKeyFile, "-o", `CertificateFile=${certFile}`, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-F", "/dev/null", "-p", String(port), `${user}@127.0.0.1`, "echo", "logged-in"];
      const from = log.length;
      return new Promise((resolve) => {
        execFile("ssh", args, { timeout: 20_000 }, async (error, stdout, stderr) => {
          // sshd's lines about this login may reach its stderr pipe just after ssh has exited.
          for (let i = 0; i < 40 && !/Connection closed|Disconnected from|Received disconnect/.test(log.slice(from)); i++) await new Promise((r) => setTimeout(r, 25));
          resolve({ code: error ? (typeof error.code === "number" ? error.code : 255) : 0, stdout, stderr: `${stderr}\n--- sshd ---\n${log.slice(from)}` });
        });
      });
    },
    revoke(specLines) {
      const spec = join(dir, `krl-spec-${++keys}`);
      writeFileSync(spec, `${specLines.join("\n")}\n`);
      execFileSync("ssh-keygen", ["-q", "-k", "-u", "-s", join(dir, "ca.pub"), "-f", join(dir, "revoked"), spec], { stdio: "pipe" });
    },
    stop() {
      server.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => (socket.end(), resolve(true)));
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${port}: ${log()}`);
}
