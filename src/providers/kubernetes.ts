import type { RbacAuthorizationV1Api, V1ClusterRoleBinding, V1RoleBinding } from "@kubernetes/client-node";
import { Type } from "@sinclair/typebox";
import { createHash } from "node:crypto";
import { EnvName } from "../schemas/common.js";
import { connectionTrouble, endpointSecrets, envValue, ProviderError, shownSafe, type Env, type GrantTarget, type Provider, type ProviderDefinition } from "./types.js";

/** Waits before retrying a 429, a 5xx or a dropped connection, and how long one request may take. */
export interface KubernetesOptions {
  backoffMs: readonly number[];
  timeoutMs: number;
}

export const DEFAULT_KUBERNETES_OPTIONS: KubernetesOptions = { backoffMs: [500, 2_000, 8_000], timeoutMs: 15_000 };

/** The label every binding made by jit-access carries: the binding's own (deterministic) name. */
export const GRANT_LABEL = "jit-access/grant";
/** The annotation with the grant id itself (`repo:<repository id>#<number>`, which is no valid label value). */
export const GRANT_ID_ANNOTATION = "jit-access/grant-id";

/**
 * The client, loaded on first use: the policy check reads this module (through the provider table)
 * on every start of the app and the CLI, and importing the client costs over a second.
 */
type Client = typeof import("@kubernetes/client-node");
let clientLoaded: Promise<Client> | undefined;
const loadClient = (): Promise<Client> => (clientLoaded ??= import("@kubernetes/client-node"));

const DNS1123_LABEL = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";

/** The provider as the table lists it. */
export const kubernetes = {
  name: "kubernetes" as const,
  description: "a Kubernetes RoleBinding or ClusterRoleBinding per grant",
  docs: {
    changes: "creates a RoleBinding (with `config.namespace`) or ClusterRoleBinding named after the request and labelled `jit-access/grant`; revoking deletes that binding, and only it",
    expiresAtTarget: "nothing: the binding stays until jit-access deletes it",
    verifiedAgainst: { kind: "fake", how: "a strict in-repo fake of the Kubernetes API's RBAC bindings (testkit/fake-kube-api.ts), driven through @kubernetes/client-node" },
    page: "providers/kubernetes.md",
  },
  config: Type.Object(
    {
      kubeconfig_env: Type.Optional({ ...EnvName, title: "the name of the environment variable holding the kubeconfig's path (the server's KUBECONFIG, or the in-cluster service account, when absent)" }),
      context: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: "a context of the kubeconfig (its current context when absent)" })),
      server_env: Type.Optional({ ...EnvName, title: "the name of the environment variable holding an API server URL that replaces the kubeconfig's" }),
      namespace: Type.Optional(Type.String({ pattern: DNS1123_LABEL, description: "a namespace: grants become RoleBindings there (ClusterRoleBindings when absent)" })),
      subject_kind: Type.Optional(Type.Union([Type.Literal("User"), Type.Literal("Group")], { description: "User or Group: the kind of the binding's subject (User when absent)" })),
      subject: Type.Optional(Type.String({ pattern: "^[^{}]*\\{login\\}[^{}]*$", maxLength: 253, description: "the subject's name, with {login} for the requester's GitHub login (such as oidc:{login}; {login} when absent)" })),
    },
    { additionalProperties: false },
  ),
  grant: Type.Object(
    {
      role: Type.String({ pattern: "^[^/%]{1,253}$", description: "the name of the Role or ClusterRole to bind" }),
      role_kind: Type.Optional(Type.Union([Type.Literal("Role"), Type.Literal("ClusterRole")], { description: "Role or ClusterRole (Role in a namespace, ClusterRole otherwise, when absent)" })),
    },
    { additionalProperties: false },
  ),
  create: ({ env }) => kubernetesProvider(env),
} satisfies ProviderDefinition;

/**
 * The binding's name (pure): DNS-1123, at most 63 characters so that it is also a valid label
 * value, readable (`jit-repo-123456-12-…`) and deterministic, so a replayed apply finds the binding
 * it made; the hash of the whole id keeps ids that read alike after cleaning apart.
 */
export function bindingName(grantId: string): string {
  const hash = createHash("sha256").update(grantId).digest("hex").slice(0, 10);
  const slug = grantId.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+/, "").slice(0, 47).replace(/-+$/, "");
  return `jit-${slug ? `${slug}-` : ""}${hash}`;
}

/** The binding a grant asks for (pure). */
export function bindingOf(t: GrantTarget): V1RoleBinding & V1ClusterRoleBinding {
  const namespace = typeof t.config.namespace === "string" ? t.config.namespace : undefined;
  const roleKind = t.grant.role_kind === "Role" || t.grant.role_kind === "ClusterRole" ? t.grant.role_kind : namespace ? "Role" : "ClusterRole";
  if (!namespace && roleKind === "Role") throw new ProviderError(`${t.resource}: a Role can only be bound in a namespace: set config.namespace, or role_kind: ClusterRole`, false);
  const name = bindingName(t.id);
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: namespace ? "RoleBinding" : "ClusterRoleBinding",
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      labels: { "app.kubernetes.io/managed-by": "jit-access", [GRANT_LABEL]: name },
      annotations: { [GRANT_ID_ANNOTATION]: t.id, "jit-access/pull-request": t.pullRequest, "jit-access/expires-at": t.expiresAt },
    },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: String(t.grant.role) },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: t.config.subject_kind === "Group" ? "Group" : "User", name: subjectName(t) }],
  };
}

function subjectName(t: GrantTarget): string {
  return (typeof t.config.subject === "string" ? t.config.subject : "{login}").replaceAll("{login}", t.requester);
}

/** Whether a binding found under the grant's name is the one this grant made (pure). */
export function madeBy(t: GrantTarget, found: V1RoleBinding | V1ClusterRoleBinding): boolean {
  return found.metadata?.labels?.[GRANT_LABEL] === bindingName(t.id) && found.metadata?.annotations?.[GRANT_ID_ANNOTATION] === t.id;
}

/**
 * `kubernetes`: one RoleBinding (in `config.namespace`) or ClusterRoleBinding per grant, named after
 * the request (`bindingName`), labelled `jit-access/grant` and annotated with the grant id; its
 * subject is the requester's login through `config.subject`. Apply creates it (409 AlreadyExists
 * from a replay is fine when the binding found is this grant's); revoke deletes it, with the uid
 * as a precondition (404 is fine).
 *
 * Reference counting. The unit is the grant's own binding, not "this subject may use this role":
 * deleting one binding object never takes away what another object gives. So standing access — a
 * binding someone made, giving the same role to the same person — is kept by construction, and two
 * overlapping grants each delete only their own binding while the other's keeps working. `held`
 * therefore reports one thing only: a binding with this grant's name that this grant did not make,
 * which revoking must then leave alone (and which makes apply refuse, naming it).
 *
 * Where: the kubeconfig whose path is in `config.kubeconfig_env` (or the server's `KUBECONFIG`, first
 * path), else the in-cluster service account; `config.context` picks a context; `config.server_env`
 * names a variable whose URL replaces the cluster's server (a proxy, a private endpoint, a test fake).
 */
export function kubernetesProvider(env: Env, options: KubernetesOptions = DEFAULT_KUBERNETES_OPTIONS): Provider {
  const unit = (t: GrantTarget) =>
    `kubernetes:${String(t.config.kubeconfig_env ?? "KUBECONFIG")}:${String(t.config.context ?? "")}:${String(t.config.server_env ?? "")}:${String(t.config.namespace ?? "(cluster)")}:${bindingName(t.id)}`;

  async function connect(t: GrantTarget): Promise<{ api: RbacAuthorizationV1Api; secrets: string[] }> {
    const variable = typeof t.config.kubeconfig_env === "string" ? t.config.kubeconfig_env : "KUBECONFIG";
    const path = envValue(env, variable)?.split(":")[0];
    const server = typeof t.config.server_env === "string" ? envValue(env, t.config.server_env) : undefined;
    const secrets = endpointSecrets([path, server]);
    const { KubeConfig, RbacAuthorizationV1Api } = await loadClient();
    const kc = new KubeConfig();
    try {
      if (path) kc.loadFromFile(path);
      else if (envValue(env, "KUBERNETES_SERVICE_HOST")) kc.loadFromCluster();
      else throw new ProviderError(`${t.resource}: no kubeconfig: ${variable} is not set on the jit-access server, and it does not run in a cluster`, false);
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      throw new ProviderError(`${t.resource}: the kubeconfig named by ${variable} could not be read`, false, `${t.resource}: reading the kubeconfig failed: ${(error as Error).message}`);
    }
    if (typeof t.config.context === "string") {
      if (!kc.getContextObject(t.config.context)) throw new ProviderError(`${t.resource}: the kubeconfig has no context named ${t.config.context}`, false);
      kc.setCurrentContext(t.config.context);
    }
    if (typeof t.config.server_env === "string") {
      if (!server || !/^https?:\/\//.test(server)) throw new ProviderError(`${t.resource}: the environment variable ${t.config.server_env} (server_env) must hold the API server's http(s) URL`, false);
      const current = kc.getCurrentCluster();
      if (!current) throw new ProviderError(`${t.resource}: the kubeconfig's context names no cluster`, false);
      kc.loadFromOptions({ clusters: kc.clusters.map((c) => (c.name === current.name ? { ...c, server } : c)), users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
    }
    if (!kc.getCurrentCluster()) throw new ProviderError(`${t.resource}: the kubeconfig's context names no cluster`, false);
    return { api: kc.makeApiClient(RbacAuthorizationV1Api), secrets };
  }

  /** One API call, retried on 429, 5xx and dropped connections; 404 and 409 are returned, not thrown. */
  async function call<T>(t: GrantTarget, what: string, secrets: readonly string[], send: () => Promise<T>): Promise<{ ok: T } | { status: 404 | 409; reason: string }> {
    for (let attempt = 0; ; attempt++) {
      let failure: { retryable: boolean; shown: string; detail: string };
      try {
        return { ok: await withTimeout(send(), options.timeoutMs) };
      } catch (error) {
        const status = statusOf(error);
        if (status.code === 404 || status.code === 409) return { status: status.code, reason: status.reason ?? "" };
        const trouble = connectionTrouble(error) ?? (status.code === undefined ? (error as Error).name === "TimeoutError" ? "timed out" : "network error" : undefined);
        failure = {
          retryable: trouble !== undefined || status.code === 429 || (status.code ?? 0) >= 500,
          shown:
            trouble !== undefined
              ? `could not reach the Kubernetes API (${trouble})`
              : status.code === 401 || status.code === 403
                ? `the Kubernetes API refused the credentials of jit-access (HTTP ${status.code})`
                : `HTTP ${status.code}${status.reason ? ` ${status.reason}` : ""}${status.message ? `: ${status.message}` : ""}`,
          detail: status.message ?? (error as Error).message,
        };
      }
      const wait = options.backoffMs[attempt];
      if (!failure.retryable || wait === undefined) {
        throw new ProviderError(`${t.resource}: ${what} failed: ${shownSafe(failure.shown, secrets)}`, failure.retryable, `${t.resource}: ${what} failed: ${failure.detail}`);
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  const read = (api: RbacAuthorizationV1Api, b: V1RoleBinding) => {
    const name = b.metadata!.name!;
    const namespace = b.metadata!.namespace;
    return namespace ? api.readNamespacedRoleBinding({ name, namespace }) : api.readClusterRoleBinding({ name });
  };

  return {
    units: (t) => [unit(t)],
    async held(t) {
      const b = bindingOf(t);
      const { api, secrets } = await connect(t);
      const found = await call(t, `reading the binding ${b.metadata!.name}`, secrets, () => read(api, b));
      if ("status" in found) return [];
      return madeBy(t, found.ok) ? [] : [unit(t)];
    },
    async apply(t) {
      const b = bindingOf(t);
      const { api, secrets } = await connect(t);
      const what = `creating the ${b.kind} ${b.metadata!.name}`;
      const namespace = b.metadata!.namespace;
      const created = await call(t, what, secrets, () => (namespace ? api.createNamespacedRoleBinding({ namespace, body: b }) : api.createClusterRoleBinding({ body: b })));
      if ("ok" in created) return;
      if (created.status === 404) {
        throw new ProviderError(`${t.resource}: ${what} failed: ${namespace ? `the namespace ${namespace} does not exist` : "the API server does not serve rbac.authorization.k8s.io/v1"}`, false);
      }
      // AlreadyExists: a replay finds its own binding; anything else under that name is left alone.
      const found = await call(t, `reading the binding ${b.metadata!.name}`, secrets, () => read(api, b));
      if ("status" in found) throw new ProviderError(`${t.resource}: ${what} failed: it exists and vanished while being read; trying again`, true);
      if (!madeBy(t, found.ok)) throw new ProviderError(`${t.resource}: a binding named ${b.metadata!.name} exists and was not made by this grant; jit-access leaves it alone`, false);
      const same = found.ok.roleRef.kind === b.roleRef.kind && found.ok.roleRef.name === b.roleRef.name && JSON.stringify(found.ok.subjects?.map((s) => [s.kind, s.name])) === JSON.stringify(b.subjects!.map((s) => [s.kind, s.name]));
      if (!same) throw new ProviderError(`${t.resource}: the binding ${b.metadata!.name} of this grant binds another role or subject than the policy now says (a roleRef cannot change)`, false);
    },
    async revoke(t, units) {
      if (!units.includes(unit(t))) return;
      const b = bindingOf(t);
      const { api, secrets } = await connect(t);
      const name = b.metadata!.name!;
      const found = await call(t, `reading the binding ${name}`, secrets, () => read(api, b));
      // Gone already, or not this grant's: nothing of this grant's to delete.
      if ("status" in found || !madeBy(t, found.ok)) return;
      const namespace = b.metadata!.namespace;
      const body = { preconditions: { uid: found.ok.metadata!.uid! } };
      const deleted = await call(t, `deleting the binding ${name}`, secrets, () => (namespace ? api.deleteNamespacedRoleBinding({ name, namespace, body }) : api.deleteClusterRoleBinding({ name, body })));
      if ("status" in deleted && deleted.status === 409) throw new ProviderError(`${t.resource}: the binding ${name} was replaced while being deleted; trying again`, true);
    },
    describe: (t) => {
      const namespace = typeof t.config.namespace === "string" ? `in the namespace ${t.config.namespace}` : "cluster-wide";
      return `the Kubernetes ${String(t.grant.role_kind ?? (t.config.namespace ? "Role" : "ClusterRole"))} ${String(t.grant.role)} for ${subjectName(t)}, ${namespace} (${t.resource})`;
    },
  };
}

/** The API's answer in an ApiException: its HTTP code and the Status object's reason and message. */
function statusOf(error: unknown): { code?: number; reason?: string; message?: string } {
  const { code, body } = error as { code?: unknown; body?: unknown };
  if (typeof code !== "number") return {};
  let status = body;
  if (typeof body === "string") {
    try {
      status = JSON.parse(body);
    } catch {
      status = undefined;
    }
  }
  const { reason, message } = (status ?? {}) as { reason?: unknown; message?: unknown };
  return { code, ...(typeof reason === "string" ? { reason } : {}), ...(typeof message === "string" ? { message } : {}) };
}

/**
 * Gives up waiting after `ms`. The client takes no abort signal per request, so the request itself
 * is not cancelled: its answer, if one comes, is dropped (and a retried create then meets its own
 * binding as AlreadyExists, which apply accepts).
 */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error("the Kubernetes API did not answer in time"), { name: "TimeoutError" })), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
