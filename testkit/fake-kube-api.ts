/**
 * A FAKE Kubernetes API server, for tests and benches only: it serves just the RBAC bindings of
 * `rbac.authorization.k8s.io/v1` (RoleBindings in namespaces, ClusterRoleBindings) over plain HTTP
 * on loopback, so the `kubernetes` provider is verified against this, not against a real cluster.
 *
 * It answers as the API server does — the same paths, JSON objects with `uid`, `resourceVersion`
 * and `creationTimestamp`, and `Status` objects with the real codes and reasons: 401 Unauthorized
 * (no or another bearer token), 404 NotFound (binding, namespace or path), 409 AlreadyExists,
 * 409 Conflict (a delete precondition on another uid), 422 Invalid (a name that is not a DNS-1123
 * subdomain, a bad label, a roleRef or subject the API refuses), 400 BadRequest (a body that is not
 * a binding, an unknown field, an unparsable labelSelector) — and it can be told to answer the next
 * requests with 429 TooManyRequests or a 5xx. Stricter than a real server in two ways, both on the
 * safe side: unknown body fields are refused (a real server only warns by default), and names must
 * be DNS-1123 subdomains (RBAC names may be any path segment).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeBinding {
  apiVersion: "rbac.authorization.k8s.io/v1";
  kind: "RoleBinding" | "ClusterRoleBinding";
  metadata: { name: string; namespace?: string; uid: string; resourceVersion: string; creationTimestamp: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects?: { kind: string; name: string; apiGroup?: string; namespace?: string }[];
}

const GROUP = "rbac.authorization.k8s.io";
const PREFIX = `/apis/${GROUP}/v1`;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export class FakeKubeApi {
  /** Every binding, RoleBindings with their namespace. */
  readonly bindings: FakeBinding[] = [];
  /** Every request, as "METHOD path" (query left off). */
  readonly requests: string[] = [];
  url = "";
  private faults: number[] = [];
  private version = 1;
  private readonly server = createServer((req, res) => void this.handle(req, res));

  private constructor(
    private readonly token: string,
    private readonly namespaces: readonly string[],
  ) {}

  static async start(options: { token: string; namespaces: readonly string[] }): Promise<FakeKubeApi> {
    const fake = new FakeKubeApi(options.token, options.namespaces);
    await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The next requests answer these statuses (429, 500, 503…) as Status objects, one each. */
  failNext(...statuses: number[]): void {
    this.faults.push(...statuses);
  }

  /** Adds a binding as if someone (not jit-access) had created it. */
  seed(binding: Omit<FakeBinding, "metadata" | "apiVersion"> & { metadata: { name: string; namespace?: string; labels?: Record<string, string> } }): void {
    this.bindings.push({ apiVersion: `${GROUP}/v1`, ...binding, metadata: this.stamp(binding.metadata) });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private stamp(metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }): FakeBinding["metadata"] {
    return { ...metadata, uid: randomUUID(), resourceVersion: String(this.version++), creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, "Z") };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://fake");
    this.requests.push(`${req.method} ${url.pathname}`);
    if (req.headers.authorization !== `Bearer ${this.token}`) return status(res, 401, "Unauthorized", "Unauthorized");
    const fault = this.faults.shift();
    if (fault !== undefined) {
      if (fault === 429) res.setHeader("retry-after", "1");
      return status(res, fault, fault === 429 ? "TooManyRequests" : fault === 503 ? "ServiceUnavailable" : "InternalError", fault === 429 ? "Too many requests, please try again later." : "an error on the server has prevented the request from succeeding");
    }
    const route = /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/(?:namespaces\/([^/]+)\/(rolebindings)|(clusterrolebindings))(?:\/([^/]+))?$/.exec(url.pathname);
    if (!route) return status(res, 404, "NotFound", "the server could not find the requested resource");
    const namespace = route[1] === undefined ? undefined : decodeURIComponent(route[1]);
    const resource = (route[2] ?? route[3])!;
    const kind = resource === "rolebindings" ? "RoleBinding" : "ClusterRoleBinding";
    const name = route[4] === undefined ? undefined : decodeURIComponent(route[4]);
    if (namespace !== undefined && !this.namespaces.includes(namespace)) return status(res, 404, "NotFound", `namespaces "${namespace}" not found`, { name: namespace, kind: "namespaces" });
    const inScope = this.bindings.filter((b) => b.kind === kind && b.metadata.namespace === namespace);
    const notFound = (n: string) => status(res, 404, "NotFound", `${resource}.${GROUP} "${n}" not found`, { name: n, group: GROUP, kind: resource });
    let body: unknown;
    try {
      body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
    } catch {
      return status(res, 400, "BadRequest", "the body of the request was in an unknown format");
    }

    if (req.method === "GET" && name !== undefined) {
      const found = inScope.find((b) => b.metadata.name === name);
      return found ? json(res, 200, found) : notFound(name);
    }
    if (req.method === "GET") {
      const selector = parseSelector(url.searchParams.get("labelSelector") ?? "");
      if (!selector) return status(res, 400, "BadRequest", `unable to parse requirement: ${url.searchParams.get("labelSelector")}`);
      const items = inScope.filter((b) => selector(b.metadata.labels ?? {}));
      return json(res, 200, { apiVersion: `${GROUP}/v1`, kind: `${kind}List`, metadata: { resourceVersion: String(this.version) }, items });
    }
    if (req.method === "POST" && name === undefined) {
      if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) return status(res, 415, "UnsupportedMediaType", `the body of the request was in an unknown format`);
      const problem = checkBinding(body, kind, namespace);
      if (problem) return status(res, problem.code, problem.code === 422 ? "Invalid" : "BadRequest", problem.code === 422 ? `${kind}.${GROUP} "${nameOf(body)}" is invalid: ${problem.message}` : problem.message);
      const b = body as FakeBinding;
      if (inScope.some((x) => x.metadata.name === b.metadata.name)) {
        return status(res, 409, "AlreadyExists", `${resource}.${GROUP} "${b.metadata.name}" already exists`, { name: b.metadata.name, group: GROUP, kind: resource });
      }
      const created: FakeBinding = { apiVersion: `${GROUP}/v1`, kind, metadata: this.stamp({ ...b.metadata, ...(namespace ? { namespace } : {}) }), roleRef: b.roleRef, ...(b.subjects ? { subjects: b.subjects } : {}) };
      this.bindings.push(created);
      return json(res, 201, created);
    }
    if (req.method === "DELETE" && name !== undefined) {
      const found = inScope.find((b) => b.metadata.name === name);
      if (!found) return notFound(name);
      const uid = (body as { preconditions?: { uid?: string } } | undefined)?.preconditions?.uid;
      if (uid !== undefined && uid !== found.metadata.uid) {
        return status(res, 409, "Conflict", `Operation cannot be fulfilled on ${resource}.${GROUP} "${name}": Precondition failed: UID in precondition: ${uid}, UID in object meta: ${found.metadata.uid}`, { name, group: GROUP, kind: resource });
      }
      this.bindings.splice(this.bindings.indexOf(found), 1);
      return json(res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, group: GROUP, kind: resource, uid: found.metadata.uid } });
    }
    return status(res, 405, "MethodNotAllowed", `the server does not allow this method on the requested resource`);
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function status(res: ServerResponse, code: number, reason: string, message: string, details?: Record<string, string>): void {
  json(res, code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details ? { details } : {}), code });
}

function nameOf(body: unknown): string {
  return String((body as { metadata?: { name?: unknown } } | undefined)?.metadata?.name ?? "");
}

const only = (object: Record<string, unknown>, keys: readonly string[], where: string): string | undefined => {
  const unknown = Object.keys(object).find((k) => !keys.includes(k));
  return unknown === undefined ? undefined : `strict decoding error: unknown field "${where}${unknown}"`;
};

/** What the API server would refuse in a created binding; undefined when it is fine. */
function checkBinding(body: unknown, kind: string, namespace: string | undefined): { code: 400 | 422; message: string } | undefined {
  if (!body || typeof body !== "object") return { code: 400, message: "the body of the request was in an unknown format" };
  const b = body as Record<string, unknown>;
  const unknown = only(b, ["apiVersion", "kind", "metadata", "roleRef", "subjects"], "");
  if (unknown) return { code: 400, message: unknown };
  if (b.apiVersion !== `${GROUP}/v1` || b.kind !== kind) return { code: 400, message: `the API version in the data (${String(b.apiVersion)}) and kind (${String(b.kind)}) do not match ${GROUP}/v1 ${kind}` };
  const metadata = (b.metadata ?? {}) as Record<string, unknown>;
  const unknownMeta = only(metadata, ["name", "namespace", "labels", "annotations"], "metadata.");
  if (unknownMeta) return { code: 400, message: unknownMeta };
  const name = metadata.name;
  if (typeof name !== "string" || name.length === 0) return { code: 422, message: "metadata.name: Required value: name or generateName is required" };
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return { code: 422, message: `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` };
  }
  if (metadata.namespace !== undefined && metadata.namespace !== namespace) return { code: 400, message: "the namespace of the provided object does not match the namespace sent on the request" };
  for (const [key, value] of Object.entries((metadata.labels ?? {}) as Record<string, unknown>)) {
    const [prefix, label] = key.includes("/") ? key.split("/", 2) : [undefined, key];
    if ((prefix !== undefined && !(prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix))) || !label || label.length > 63 || !LABEL_NAME.test(label)) return { code: 422, message: `metadata.labels: Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.'` };
    if (typeof value !== "string" || value.length > 63 || !LABEL_VALUE.test(value)) return { code: 422, message: `metadata.labels: Invalid value: "${String(value)}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.' (at most 63)` };
  }
  const roleRef = (b.roleRef ?? {}) as Record<string, unknown>;
  if (roleRef.apiGroup !== GROUP) return { code: 422, message: `roleRef.apiGroup: Unsupported value: "${String(roleRef.apiGroup)}": supported values: "${GROUP}"` };
  const roleKinds = kind === "RoleBinding" ? ["Role", "ClusterRole"] : ["ClusterRole"];
  if (typeof roleRef.kind !== "string" || !roleKinds.includes(roleRef.kind)) return { code: 422, message: `roleRef.kind: Unsupported value: "${String(roleRef.kind)}": supported values: ${roleKinds.map((k) => `"${k}"`).join(", ")}` };
  if (typeof roleRef.name !== "string" || roleRef.name.length === 0 || /[/%]/.test(roleRef.name)) return { code: 422, message: "roleRef.name: Required value" };
  for (const [i, subject] of ((b.subjects ?? []) as Record<string, unknown>[]).entries()) {
    const wrong = only(subject, ["kind", "name", "apiGroup", "namespace"], `subjects[${i}].`);
    if (wrong) return { code: 400, message: wrong };
    if (typeof subject.name !== "string" || subject.name.length === 0) return { code: 422, message: `subjects[${i}].name: Required value` };
    if (subject.kind === "User" || subject.kind === "Group") {
      if (subject.apiGroup !== GROUP) return { code: 422, message: `subjects[${i}].apiGroup: Unsupported value: "${String(subject.apiGroup)}": supported values: "${GROUP}"` };
    } else if (subject.kind === "ServiceAccount") {
      if (typeof subject.namespace !== "string" || !DNS1123_LABEL.test(subject.namespace)) return { code: 422, message: `subjects[${i}].namespace: Required value` };
    } else return { code: 422, message: `subjects[${i}].kind: Unsupported value: "${String(subject.kind)}": supported values: "ServiceAccount", "User", "Group"` };
  }
  return undefined;
}

/** A label selector of equality terms (`k=v`, `k==v`, `k!=v`, `k`, `!k`), as a predicate; undefined when it does not parse. */
function parseSelector(text: string): ((labels: Record<string, string>) => boolean) | undefined {
  if (text.trim() === "") return () => true;
  const terms: ((labels: Record<string, string>) => boolean)[] = [];
  for (const raw of text.split(",")) {
    const term = raw.trim();
    const m = /^(!?)([A-Za-z0-9./_-]+)(?:\s*(==|=|!=)\s*([A-Za-z0-9._-]*))?$/.exec(term);
    if (!m) return undefined;
    const [, not, key, op, value] = m as unknown as [string, string, string, string | undefined, string | undefined];
    if (not && op) return undefined;
    if (!op) terms.push(not ? (l) => !Object.hasOwn(l, key) : (l) => Object.hasOwn(l, key));
    else if (op === "!=") terms.push((l) => l[key] !== value);
    else terms.push((l) => l[key] === value);
  }
  return (labels) => terms.every((t) => t(labels));
}
