import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { awsIdentityCenterProvider } from "../src/providers/aws-identity-center.js";
import { kubernetesProvider } from "../src/providers/kubernetes.js";
import { postgresProvider } from "../src/providers/postgres.js";
import type { GrantTarget, Provider } from "../src/providers/types.js";
import { webhookProvider } from "../src/providers/webhook.js";
import { FakeKubeApi } from "../testkit/fake-kube-api.js";
import { FakeSsoAdmin } from "../testkit/fake-sso-admin.js";
import { findPostgresBin, startPostgres } from "../testkit/postgres-server.js";
import { fmt, summarize } from "./stats.js";

const ROUNDS = 200;

/** Applies then revokes `ROUNDS` grants one after another, timing each call. */
async function measure(provider: Provider, target: (i: number) => GrantTarget): Promise<{ apply: number[]; revoke: number[] }> {
  const apply: number[] = [];
  const revoke: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = target(i);
    let start = performance.now();
    await provider.apply(t);
    apply.push(performance.now() - start);
    start = performance.now();
    await provider.revoke(t, provider.units(t));
    revoke.push(performance.now() - start);
  }
  return { apply, revoke };
}

function line(name: string, against: string, m: { apply: number[]; revoke: number[] }): string {
  const a = summarize(m.apply);
  const r = summarize(m.revoke);
  return `${name.padEnd(20)} apply p50 ${fmt(a.median, 1)} ms, p99 ${fmt(a.p99, 1)} ms; revoke p50 ${fmt(r.median, 1)} ms, p99 ${fmt(r.p99, 1)} ms  (${a.n} grants, ${against})`;
}

const base = (provider: string, i: number, config: Record<string, unknown>, grant: Record<string, unknown>): GrantTarget => ({
  id: `acme/access#${i + 1}`,
  requester: "alice",
  resource: "bench",
  role: "r",
  provider,
  config,
  grant,
  startsAt: "2026-12-07T10:00:00.000Z",
  expiresAt: "2026-12-07T12:00:00.000Z",
  pullRequest: `https://github.com/acme/access/pull/${i + 1}`,
});

async function benchPostgres(): Promise<string> {
  const bin = findPostgresBin();
  if (!bin) return "postgres             skipped: PostgreSQL server binaries not found (Debian: apt-get install -y postgresql)";
  const server = await startPostgres(bin);
  try {
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query("CREATE ROLE alice LOGIN; CREATE ROLE analytics_read");
    await admin.end();
    const provider = postgresProvider({ JIT_BENCH_DB_URL: server.url() });
    const m = await measure(provider, (i) => base("postgres", i, { url_env: "JIT_BENCH_DB_URL" }, { roles: ["analytics_read"] }));
    return line("postgres", "a real PostgreSQL server on loopback, a connection per call", m);
  } finally {
    server.stop();
  }
}

async function benchWebhook(): Promise<string> {
  const receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const provider = webhookProvider({ JIT_BENCH_HOOK_URL: url, JIT_BENCH_HOOK_SECRET: "bench-secret" });
    const m = await measure(provider, (i) => base("webhook", i, { url_env: "JIT_BENCH_HOOK_URL", secret_env: "JIT_BENCH_HOOK_SECRET" }, {}));
    return line("webhook", "a real local HTTP receiver answering 204", m);
  } finally {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  }
}

async function benchAws(): Promise<string> {
  const instance = "arn:aws:sso:::instance/ssoins-1111222233334444";
  const permissionSet = "arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd";
  const fake = await FakeSsoAdmin.start({ instanceArn: instance, permissionSets: [permissionSet], accessKeyId: "AKIDBENCH00000000001", region: "eu-west-1", pollsToSettle: 1 });
  try {
    const provider = awsIdentityCenterProvider(
      { AWS_ENDPOINT_URL_SSO_ADMIN: fake.url, AWS_ACCESS_KEY_ID: "AKIDBENCH00000000001", AWS_SECRET_ACCESS_KEY: "bench-secret" },
      { pollMs: 0, timeoutMs: 10_000, backoffMs: [10, 20, 40] },
    );
    const config = { instance_arn: instance, region: "eu-west-1", account_id: "123456789012", principals: { alice: "9067d7e4-1234-4abc-8def-0123456789ab" } };
    const m = await measure(provider, (i) => base("aws-identity-center", i, config, { permission_set_arn: permissionSet }));
    return line("aws-identity-center", "the in-repo FAKE SSO Admin API, settling at the first status read with no poll wait: SDK and provider overhead only; AWS itself takes seconds", m);
  } finally {
    await fake.close();
  }
}

async function benchKubernetes(): Promise<string> {
  const fake = await FakeKubeApi.start({ token: "bench-token", namespaces: ["payments"] });
  const dir = mkdtempSync(join(tmpdir(), "jit-kube-bench-"));
  try {
    const kubeconfig = join(dir, "config");
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${fake.url}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: bench-token\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n`,
    );
    const provider = kubernetesProvider({ KUBECONFIG: kubeconfig });
    const m = await measure(provider, (i) => base("kubernetes", i, { namespace: "payments" }, { role: "payments-operator" }));
    return line("kubernetes", "the in-repo FAKE Kubernetes API on loopback: client and provider overhead only", m);
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Apply and revoke latency per provider, one grant at a time, against local servers and fakes. */
export async function benchProviders(): Promise<string[]> {
  return [await benchPostgres(), await benchWebhook(), await benchAws(), await benchKubernetes()];
}
