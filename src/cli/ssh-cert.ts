import { HANDOVER_MARKER } from "../present/messages.js";
import { fingerprintOf, readCertificate } from "../providers/ssh-cert.js";
import { CliError, EXIT, githubFrom, isTrusted, onGitHub, repoFrom, trustedAppFrom, type CliEnv } from "./context.js";

export interface SshCertOptions {
  repo?: string;
  /** The public key (its OpenSSH line) whose certificate is wanted; without it, every certificate. */
  publicKey?: string;
}

export interface SshCertificate {
  line: string;
  principals: string[];
  validAfter: string;
  validBefore: string;
  keyFingerprint: string;
  serial: string;
}

/**
 * A certificate line as the ssh provider writes it: `<type>-cert-v01@openssh.com <base64> [comment]`,
 * the comment printable ASCII only, so nothing written to a terminal or a file carries control characters.
 */
const CERT_LINE = /^[a-z0-9-]+-cert-v01@openssh\.com [A-Za-z0-9+/]+={0,3}(?: [\x21-\x7e]+)?$/;

/**
 * `jit ssh-cert <pr>`: the SSH certificates the app handed over on a request PR (the ssh
 * provider's reply). Only a reply posted by the trusted app counts: anyone can comment a
 * certificate-looking line, and one signed by another CA would only fail at login, confusingly.
 * Certificates are public; nothing secret is read or written. With a public key, only the
 * certificate for that key is returned.
 */
export async function sshCert(ctx: CliEnv, pr: number, o: SshCertOptions): Promise<SshCertificate[]> {
  const app = trustedAppFrom(ctx);
  const gh = githubFrom(ctx);
  const ref = repoFrom(ctx, o.repo);
  const wanted = o.publicKey === undefined ? undefined : fingerprintOf(o.publicKey);
  if (o.publicKey !== undefined && wanted === undefined) throw new CliError("--key must be an OpenSSH public key file (such as ~/.ssh/id_ed25519.pub)", EXIT.usage);
  const comments = await onGitHub(`reading the comments of #${pr}`, () => gh.paginate(gh.rest.issues.listComments, { ...ref, issue_number: pr, per_page: 100 }));
  const reply = comments
    .filter((c) => (c.body ?? "").startsWith(HANDOVER_MARKER) && isTrusted(app, c.performed_via_github_app))
    .sort((a, b) => b.id - a.id)[0];
  if (!reply) throw new CliError(`#${pr}: jit-access has handed over no SSH certificate there (not an ssh grant, or not applied yet)`, EXIT.invalid);
  const certificates: SshCertificate[] = [];
  for (const line of (reply.body ?? "").split("\n").map((l) => l.trim())) {
    if (!CERT_LINE.test(line)) continue;
    const cert = readCertificate(line);
    if (!cert) continue;
    certificates.push({ line, principals: cert.principals, validAfter: cert.validAfter.toISOString(), validBefore: cert.validBefore.toISOString(), keyFingerprint: cert.keyFingerprint, serial: cert.serial });
  }
  const chosen = wanted === undefined ? certificates : certificates.filter((c) => c.keyFingerprint === wanted);
  if (chosen.length === 0) {
    throw new CliError(wanted === undefined ? `#${pr}: the app's reply holds no readable certificate` : `#${pr}: no certificate for the key ${wanted} (the app certified ${certificates.map((c) => c.keyFingerprint).join(", ") || "no key"})`, EXIT.invalid);
  }
  return chosen;
}
