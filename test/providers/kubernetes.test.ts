import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bindingName, kubernetes, kubernetesProvider, type KubernetesOptions } from "../../src/providers/kubernetes.js";
import { ProviderError, standingOf, unitsToRevoke, type GrantTarget, type OtherGrant } from "../../src/providers/types.js";
import { FakeKubeApi } from "../../testkit/fake-kube-api.js";

// Verified against an in-repo FAKE Kubernetes API server (testkit/fake-kube-api.ts), not a cluster.

const TOKEN = "fake-kube-token-for-tests-only";
const FAST: KubernetesOptions = { backoffMs: [5, 10, 20], timeoutMs: 2_000 };

let fake: FakeKubeApi;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "jit-kube-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  fake = await FakeKubeApi.start({ token: TOKEN, namespaces: ["payments", "default"] });
});
afterEach(() => fake.close());

/**
 * A kubeconfig as kubectl writes one, pointing at `server` with a bearer token. The fake serves
 * plain HTTP on loopback, which the client accepts only with `insecure-skip-tls-verify`.
 */
function kubeconfig(server: string, token = TOKEN): string {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- name: test\n  cluster:\n    server: ${server}\n    insecure-skip-tls-verify: true`,
      "users:",
      `- name: jit\n  user:\n    token: ${token}`,
      "contexts:",
      "- name: test\n  context:\n    cluster: test\n    user: jit",
      "current-context: test",
      "",
    ].join("\n"),
  );
  return path;
}

const env = () => ({ KUBECONFIG: kubeconfig(fake.url) });
const grant = (id: number, config: Record<string, unknown> = { namespace: "payments" }, role: Record<string, unknown> = { role: "payments-operator" }, requester = "alice"): GrantTarget => ({
  id: `acme/access#${id}`,
  requester,
  resource: "payments-k8s",
  role: "operator",
  provider: "kubernetes",
  config,
  grant: role,
  startsAt: "2026-12-07T10:00:00.000Z",
  expiresAt: "2026-12-07T12:00:00.000Z",
  pullRequest: `https://github.com/acme/access/pull/${id}`,
});

async function applyGrant(p: ReturnType<typeof kubernetesProvider>, t: GrantTarget, others: OtherGrant[] = []): Promise<OtherGrant> {
  const standing = standingOf(p, t, await p.held(t), others);
  await p.apply(t);
  return { target: t, standing };
}
const revokeGrant = (p: ReturnType<typeof kubernetesProvider>, live: OtherGrant, others: OtherGrant[] = []) => p.revoke(live.target, unitsToRevoke(p, live.target, live.standing, others));
const names = () => fake.bindings.map((b) => `${b.kind}/${b.metadata.namespace ?? ""}/${b.metadata.name}`);

describe("bindingName", () => {
  it("is a DNS-1123 name of at most 63 characters, deterministic and distinct per grant", () => {
    const ids = ["repo:123456#12", "acme/access#12", "Acme/Access#12", "a".repeat(120) + "/x#1", "---/#9", "acme/access#120"];
    const made = ids.map(bindingName);
    for (const name of made) {
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(name.length).toBeLessThanOrEqual(63);
    }
    expect(new Set(made).size).toBe(ids.length);
    expect(bindingName("acme/access#12")).toBe(made[1]);
    expect(made[0]).toMatch(/^jit-repo-123456-12-[0-9a-f]{10}$/);
    expect(made[1]).toMatch(/^jit-acme-access-12-[0-9a-f]{10}$/);
  });
});

describe("kubernetes, against the in-repo fake Kubernetes API", () => {
  it("applies a RoleBinding named after the request, labelled with it, for the User; revokes by deleting it", async () => {
    const p = kubernetesProvider(env(), FAST);
    const live = await applyGrant(p, grant(12));
    const name = bindingName("acme/access#12");
    expect(fake.bindings).toEqual([
      expect.objectContaining({
        kind: "RoleBinding",
        metadata: expect.objectContaining({ name, namespace: "payments", labels: { "app.kubernetes.io/managed-by": "jit-access", "jit-access/grant": name }, annotations: expect.objectContaining({ "jit-access/grant-id": "acme/access#12" }) }),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "payments-operator" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "alice" }],
      }),
    ]);
    await revokeGrant(p, live);
    expect(fake.bindings).toEqual([]);
    expect(fake.requests).toContain(`DELETE /apis/rbac.authorization.k8s.io/v1/namespaces/payments/rolebindings/${name}`);
  });

  it("without a namespace, binds a ClusterRole cluster-wide, with the subject template and kind", async () => {
    const p = kubernetesProvider(env(), FAST);
    const live = await applyGrant(p, grant(3, { subject: "oidc:{login}", subject_kind: "Group" }, { role: "view" }));
    expect(fake.bindings).toEqual([
      expect.objectContaining({ kind: "ClusterRoleBinding", roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" }, subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "oidc:alice" }] }),
    ]);
    await revokeGrant(p, live);
    expect(fake.bindings).toEqual([]);
  });

  it("replays are idempotent: 409 AlreadyExists of its own binding is success, 404 on revoke is done", async () => {
    const p = kubernetesProvider(env(), FAST);
    const live = await applyGrant(p, grant(12));
    await p.apply(grant(12));
    expect(fake.bindings).toHaveLength(1);
    expect(fake.requests.filter((r) => r.startsWith("POST"))).toHaveLength(2);
    await revokeGrant(p, live);
    await revokeGrant(p, live);
    expect(fake.bindings).toEqual([]);
  });

  it("counts references: two overlapping grants have a binding each, and ending one leaves the other's", async () => {
    const p = kubernetesProvider(env(), FAST);
    const first = await applyGrant(p, grant(1));
    const second = await applyGrant(p, grant(2), [first]);
    expect(fake.bindings).toHaveLength(2);
    await revokeGrant(p, first, [second]);
    expect(names()).toEqual([`RoleBinding/payments/${bindingName("acme/access#2")}`]);
    await revokeGrant(p, second);
    expect(fake.bindings).toEqual([]);
  });

  it("keeps standing access: a binding someone else made for the same role and person survives", async () => {
    const standing = { kind: "RoleBinding" as const, metadata: { name: "alice-operator", namespace: "payments" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "payments-operator" }, subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "alice" }] };
    fake.seed(standing);
    const p = kubernetesProvider(env(), FAST);
    const live = await applyGrant(p, grant(12));
    await revokeGrant(p, live);
    expect(names()).toEqual(["RoleBinding/payments/alice-operator"]);
  });

  it("never touches a binding with the grant's name that it did not make: held reports it, apply refuses, revoke leaves it", async () => {
    const name = bindingName("acme/access#12");
    fake.seed({ kind: "RoleBinding", metadata: { name, namespace: "payments" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "admin" }, subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "bob" }] });
    const p = kubernetesProvider(env(), FAST);
    expect(await p.held(grant(12))).toEqual(p.units(grant(12)));
    await expect(p.apply(grant(12))).rejects.toThrow(`payments-k8s: a binding named ${name} exists and was not made by this grant; jit-access leaves it alone`);
    await p.revoke(grant(12), p.units(grant(12)));
    expect(names()).toEqual([`RoleBinding/payments/${name}`]);
  });

  it("retries 429 and 5xx answers with backoff, then succeeds", async () => {
    fake.failNext(429, 503, 500);
    const p = kubernetesProvider(env(), FAST);
    await p.apply(grant(12));
    expect(fake.bindings).toHaveLength(1);
    expect(fake.requests.filter((r) => r.startsWith("POST"))).toHaveLength(4);
  });

  it("errors that outlast the backoff are retryable failures, shown with the API's reason", async () => {
    fake.failNext(503, 503, 503, 503);
    const error = await kubernetesProvider(env(), FAST).apply(grant(12)).catch((e: unknown) => e);
    expect((error as ProviderError).message).toBe(`payments-k8s: creating the RoleBinding ${bindingName("acme/access#12")} failed: HTTP 503 ServiceUnavailable: an error on the server has prevented the request from succeeding`);
    expect((error as ProviderError).retryable).toBe(true);
  });

  it("a namespace that does not exist, or a token the API refuses, fails clearly and is not retried", async () => {
    const missing = await kubernetesProvider(env(), FAST).apply(grant(12, { namespace: "nowhere" })).catch((e: unknown) => e);
    expect((missing as ProviderError).message).toBe(`payments-k8s: creating the RoleBinding ${bindingName("acme/access#12")} failed: the namespace nowhere does not exist`);
    expect((missing as ProviderError).retryable).toBe(false);
    const refused = await kubernetesProvider({ KUBECONFIG: kubeconfig(fake.url, "another-token") }, FAST).apply(grant(12)).catch((e: unknown) => e);
    expect((refused as ProviderError).message).toContain("the Kubernetes API refused the credentials of jit-access (HTTP 401)");
    expect((refused as ProviderError).retryable).toBe(false);
    expect((refused as ProviderError).message).not.toContain("another-token");
    expect(fake.bindings).toEqual([]);
  });

  it("a Role without a namespace, or no kubeconfig at all, is refused before any request", async () => {
    await expect(kubernetesProvider(env(), FAST).apply(grant(12, {}, { role: "x", role_kind: "Role" }))).rejects.toThrow("payments-k8s: a Role can only be bound in a namespace");
    await expect(kubernetesProvider({}, FAST).apply(grant(12))).rejects.toThrow("payments-k8s: no kubeconfig: KUBECONFIG is not set on the jit-access server, and it does not run in a cluster");
    expect(fake.requests).toEqual([]);
  });

  it("config.context picks a context of the kubeconfig; an unknown one is refused before any request", async () => {
    const path = kubeconfig("http://127.0.0.1:9");
    writeFileSync(path, `${readFileSync(path, "utf8")}`.replace("contexts:\n", `contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: jit\n`).replace("clusters:\n", `clusters:\n- name: fake\n  cluster:\n    server: ${fake.url}\n    insecure-skip-tls-verify: true\n`));
    const p = kubernetesProvider({ KUBECONFIG: path }, FAST);
    await p.apply(grant(12, { namespace: "payments", context: "fake" }));
    expect(fake.bindings).toHaveLength(1);
    await expect(p.apply(grant(13, { namespace: "payments", context: "elsewhere" }))).rejects.toThrow("payments-k8s: the kubeconfig has no context named elsewhere");
    expect(fake.requests.filter((r) => r.startsWith("POST"))).toHaveLength(1);
  });

  it("server_env replaces the kubeconfig's server; an unreachable one is shown without its address", async () => {
    const unreachable = { KUBECONFIG: kubeconfig("http://127.0.0.1:9"), JIT_KUBE_SERVER: fake.url };
    await kubernetesProvider(unreachable, FAST).apply(grant(12, { namespace: "payments", server_env: "JIT_KUBE_SERVER" }));
    expect(fake.bindings).toHaveLength(1);
    const port = new URL(fake.url).port;
    await fake.close();
    const error = await kubernetesProvider(unreachable, { ...FAST, backoffMs: [] }).apply(grant(13, { namespace: "payments", server_env: "JIT_KUBE_SERVER" })).catch((e: unknown) => e);
    expect((error as ProviderError).message).toBe(`payments-k8s: creating the RoleBinding ${bindingName("acme/access#13")} failed: could not reach the Kubernetes API (connection refused)`);
    expect((error as ProviderError).message).not.toContain(port);
    expect((error as ProviderError).retryable).toBe(true);
    fake = await FakeKubeApi.start({ token: TOKEN, namespaces: [] });
  });

  it("the fake is strict: invalid names are 422 Invalid, unknown fields 400, and label selectors filter lists", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig(fake.url));
    const api = kc.makeApiClient(RbacAuthorizationV1Api);
    const roleRef = { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" };
    const invalid = await api.createNamespacedRoleBinding({ namespace: "payments", body: { metadata: { name: "Not_Valid" }, roleRef } }).catch((e: unknown) => e);
    expect((invalid as { code: number }).code).toBe(400); // no apiVersion/kind: not a binding at all
    const badName = await api.createNamespacedRoleBinding({ namespace: "payments", body: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "Not_Valid" }, roleRef } }).catch((e: unknown) => e);
    expect((badName as { code: number }).code).toBe(422);
    expect(JSON.parse(String((badName as { body: unknown }).body))).toMatchObject({ kind: "Status", reason: "Invalid", code: 422 });
    const unknownField = await fetch(`${fake.url}/apis/rbac.authorization.k8s.io/v1/namespaces/payments/rolebindings`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "ok" }, roleRef, colour: "blue" }),
    });
    expect(unknownField.status).toBe(400);
    expect(await unknownField.json()).toMatchObject({ reason: "BadRequest", message: 'strict decoding error: unknown field "colour"' });
    const p = kubernetesProvider(env(), FAST);
    await p.apply(grant(1));
    await p.apply(grant(2, { namespace: "payments" }, { role: "payments-operator" }, "bob"));
    const listed = await api.listNamespacedRoleBinding({ namespace: "payments", labelSelector: `jit-access/grant=${bindingName("acme/access#2")}` });
    expect(listed.items.map((b) => b.subjects?.[0]?.name)).toEqual(["bob"]);
  });

  it("is labelled in its table entry as verified against a fake", () => {
    expect(kubernetes.docs.verifiedAgainst.kind).toBe("fake");
  });
});
