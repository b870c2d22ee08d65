import { randomBytes } from "node:crypto";
import sshpk from "sshpk";

/**
 * OpenSSH user certificates, signed and read with `sshpk` (pure functions of their inputs, no I/O).
 * Only the CA's signature decides whether sshd accepts a certificate, so only CA key types that
 * sshpk signs in a way OpenSSH still accepts are allowed: Ed25519 and ECDSA. sshpk signs with an
 * RSA key using SHA-1 (`ssh-rsa`), which OpenSSH 8.8 and later refuse for certificates.
 */

/** The extensions a certificate may carry (PROTOCOL.certkeys); none are critical options. */
export const SSH_EXTENSIONS = ["permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding", "permit-pty", "permit-user-rc"] as const;
export type SshExtension = (typeof SSH_EXTENSIONS)[number];

export interface CertificateRequest {
  /** The requester's public key, one OpenSSH line (`ssh-ed25519 AAAA… comment`). */
  publicKey: string;
  principals: readonly string[];
  /** Shown in sshd's log for every login with the certificate: who and which grant. */
  keyId: string;
  validAfter: Date;
  validBefore: Date;
  extensions: readonly SshExtension[];
}

export class SshKeyError extends Error {}

/** The CA's private key (OpenSSH or PEM), or an error that repeats nothing of it. */
export function parseCaKey(text: string): sshpk.PrivateKey {
  let key: sshpk.PrivateKey;
  try {
    key = sshpk.parsePrivateKey(text.replace(/\\n/g, "\n"), "auto");
  } catch (error) {
    // sshpk's messages name the format it expected, never the key's bytes; a passphrase is not supported.
    const encrypted = error instanceof Error && error.name === "KeyEncryptedError";
    throw new SshKeyError(encrypted ? "the CA private key is encrypted with a passphrase; store it without one in the environment variable" : "the CA private key could not be read (an OpenSSH or PEM private key is expected)");
  }
  if (key.type !== "ed25519" && key.type !== "ecdsa") {
    throw new SshKeyError(`the CA private key is ${key.type.toUpperCase()}: use an Ed25519 or ECDSA CA key (sshpk would sign with SHA-1, which OpenSSH refuses)`);
  }
  return key;
}

/** A public key line, or undefined when it is not one sshpk can certify. */
export function parsePublicKey(line: string): sshpk.Key | undefined {
  try {
    const key = sshpk.parseKey(line.trim(), "ssh");
    return key.type === "ed25519" || key.type === "ecdsa" || key.type === "rsa" ? key : undefined;
  } catch {
    return undefined;
  }
}

/** One certificate line, `ssh-ed25519-cert-v01@openssh.com AAAA… <keyId>`, signed by `ca`. */
export function signUserCertificate(ca: sshpk.PrivateKey, request: CertificateRequest, serial: Buffer = randomBytes(8)): string {
  const key = parsePublicKey(request.publicKey);
  if (!key) throw new SshKeyError("not an Ed25519, ECDSA or RSA public key in OpenSSH format");
  const cert = sshpk.createCertificate(
    request.principals.map((p) => sshpk.identityForUser(p)),
    key,
    sshpk.identityForUser("jit-access"),
    ca,
    { validFrom: request.validAfter, validUntil: request.validBefore, serial },
  );
  const openssh = (cert.signatures as { openssh: { keyId?: string; exts?: { critical: boolean; name: string; data: Buffer }[] } }).openssh;
  openssh.keyId = request.keyId;
  // OpenSSH wants extensions in lexical order, each once.
  openssh.exts = [...new Set(request.extensions)].sort().map((name) => ({ critical: false, name, data: Buffer.alloc(0) }));
  cert.signWith(ca); // again: the key id and extensions are part of what is signed
  return `${cert.toString("openssh")} ${request.keyId.replace(/\s+/g, "_")}`;
}

/** What a certificate line says, for people and for `jit ssh-cert`; undefined when it is not one. */
export function readCertificate(line: string): { keyFingerprint: string; principals: string[]; validAfter: Date; validBefore: Date; keyId: string; serial: string } | undefined {
  try {
    const cert = sshpk.parseCertificate(line.trim(), "openssh");
    return {
      keyFingerprint: cert.subjectKey.fingerprint("sha256").toString(),
      principals: cert.subjects.map((s) => String((s as unknown as { uid?: string }).uid ?? s.toString())),
      validAfter: cert.validFrom,
      validBefore: cert.validUntil,
      keyId: String((cert.signatures as { openssh?: { keyId?: string } }).openssh?.keyId ?? ""),
      // Decimal, as ssh-keygen -L and sshd's log print it, and as a KRL's `serial:` line takes it.
      serial: BigInt(`0x${(cert.serial as Buffer).toString("hex") || "0"}`).toString(),
    };
  } catch {
    return undefined;
  }
}

/** The SHA256 fingerprint of a public key line (as `ssh-keygen -l` prints it), or undefined. */
export function fingerprintOf(line: string): string | undefined {
  return parsePublicKey(line)?.fingerprint("sha256").toString();
}
