import { generateKeyPairSync } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Client } from "ldapts";
import sshpk from "sshpk";
import type { GitHub } from "../src/github/client.js";
import { ldapProvider } from "../src/providers/ldap.js";
import { sshProvider } from "../src/providers/ssh.js";
import type { GrantTarget, Provider } from "../src/providers/types.js";
import { ROOT_DN, slapdAvailability, startSlapd, SUFFIX } from "../testkit/slapd-server.js";
import { fmt, summarize } from "./stats.js";

/**
 * Apply and revoke latency of the ssh and ldap providers, as the executor calls them (one call,
 * its own connection and bind for ldap). ldap runs against a local slapd on loopback, so the
 * figures are the provider's and the directory's own cost, without a network; ssh touches no
 * server at all (apply signs a certificate; revoke has nothing to do).
 */
const RUNS = 200;

async function timed(runs: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await call(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

const line = (what: string, samples: number[]) => {
  const s = summarize(samples);
  return `${what.padEnd(50)} n=${s.n}  median ${fmt(s.median, 2)} ms  p99 ${fmt(s.p99, 2)} ms`;
};

const target = (provider: string, config: Record<string, unknown>, grant: Record<string, unknown>, i: number): GrantTarget => ({
  id: `repo:1#${i}`, requester: "alice", resource: "bench", role: "r", provider, config, grant,
  startsAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString(), pullRequest: `https://github.com/acme/access/pull/${i}`,
});

async function benchSsh(): Promise<string[]> {
  const publicKey = sshpk.parseKey(generateKeyPairSync("ed25519").publicKey.export({ format: "pem", type: "spki" }).toString(), "pem").toString("ssh");
  const out: string[] = [];
  for (const [name, ca] of [
    ["Ed25519 CA", generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString()],
    ["ECDSA P-256 CA", generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString()],
  ] as const) {
    // The keys come from the policy: no GitHub request is made, so no client is needed.
    const provider: Provider = sshProvider({ JIT_BENCH_CA: ca }, undefined as unknown as GitHub);
    const config = { ca_key_env: "JIT_BENCH_CA", public_keys: { alice: [publicKey] } };
    out.push(line(`ssh apply (sign one certificate, ${name})`, await timed(RUNS, (i) => provider.apply(target("ssh", config, { principals: ["ops"] }, i)))));
  }
  return out;
}

async function benchLdap(): Promise<string[]> {
  const availability = slapdAvailability();
  if ("missing" in availability) return [`ldap: NOT RUN: ${availability.missing}`];
  const server = await startSlapd("bench-root");
  try {
    const admin = new Client({ url: server.url });
    await admin.bind(ROOT_DN, server.rootPassword);
    await admin.add(SUFFIX, { objectClass: ["dcObject", "organization"], dc: "example", o: "Example" });
    await admin.add(`ou=groups,${SUFFIX}`, { objectClass: ["organizationalUnit"], ou: "groups" });
    await admin.add(`cn=ops,ou=groups,${SUFFIX}`, { objectClass: ["groupOfNames"], cn: "ops", member: [ROOT_DN] });
    await admin.unbind();
    const provider = ldapProvider({ JIT_BENCH_LDAP_URL: server.url, JIT_BENCH_LDAP_PASSWORD: server.rootPassword });
    const config = { url_env: "JIT_BENCH_LDAP_URL", bind_dn: ROOT_DN, bind_password_env: "JIT_BENCH_LDAP_PASSWORD", user_dn: `uid={login},ou=people,${SUFFIX}` };
    const t = (i: number) => target("ldap", config, { groups: [`cn=ops,ou=groups,${SUFFIX}`] }, i);
    const held: number[] = [];
    const applied: number[] = [];
    const revoked: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      held.push(...(await timed(1, () => provider.held(t(i)))));
      applied.push(...(await timed(1, () => provider.apply(t(i)))));
      revoked.push(...(await timed(1, () => provider.revoke(t(i), provider.units(t(i))))));
    }
    return [line("ldap held (connect, bind, one search)", held), line("ldap apply (connect, bind, one modify)", applied), line("ldap revoke (connect, bind, one modify)", revoked)];
  } finally {
    server.stop();
  }
}

export async function benchNetworkProviders(): Promise<string[]> {
  return [...(await benchSsh()), ...(await benchLdap())];
}
