import { describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

/**
 * deploy/kubernetes rendered as `kubectl apply -k` would render it (Debian's kubectl builds
 * Kustomize offline), and what an operator relies on checked in the result: the probes and what
 * they mean, the pod's security, the disruption budget, configuration from the Secret only.
 */
const root = new URL("../", import.meta.url).pathname;
const kubectl = findKubectl();
const describeKubectl = kubectl ? describe : describe.skip;

function findKubectl(): string | undefined {
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "pipe" });
    return "kubectl";
  } catch {
    const missing = "kubectl was not found; install it (Debian: apt-get install -y kubectl)";
    if (process.env.CI) throw new Error(`${missing}. Under CI the Kubernetes manifests must be rendered.`);
    console.warn(`\n*** SKIPPING the Kubernetes manifest tests: ${missing} ***\n`);
    return undefined;
  }
}

type Doc = { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: any; automountServiceAccountToken?: boolean };

function render(path: string): Doc[] {
  const text = execFileSync(kubectl!, ["kustomize", `${root}deploy/kubernetes/${path}`], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return parseAllDocuments(text).map((d) => d.toJS() as Doc);
}

const one = (docs: Doc[], kind: string) => {
  const found = docs.filter((d) => d.kind === kind);
  expect(found).toHaveLength(1);
  return found[0]!;
};

describeKubectl("deploy/kubernetes (kubectl kustomize)", () => {
  const version = (JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { version: string }).version;

  it("base: Deployment, Service, ServiceAccount, PodDisruptionBudget; probes, a locked-down pod, configuration from the Secret", () => {
    const docs = render("base");
    expect(docs.map((d) => d.kind).sort()).toEqual(["Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"]);
    const deployment = one(docs, "Deployment");
    expect(deployment.spec.replicas).toBe(1);
    // Without Redis a process runs the scheduler itself: an update never runs two at once.
    expect(deployment.spec.strategy).toEqual({ type: "Recreate" });
    const pod = deployment.spec.template.spec;
    const [container, ...others] = pod.containers;
    expect(others).toEqual([]);
    expect(container.image).toBe(`jit-access:${version}`);

    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(container.ports).toEqual([{ name: "http", containerPort: 3000 }]);

    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toEqual({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    // A read-only root filesystem, and a writable /tmp only.
    expect(container.volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
    expect(pod.volumes).toEqual([{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }]);
    // The drain (10 s at most) fits in the grace period.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(20);

    // Configuration from the Secret only: no value in the manifests but the listening address.
    expect(container.envFrom).toEqual([{ secretRef: { name: "jit-access" } }]);
    expect(container.env).toEqual([{ name: "HOST", value: "0.0.0.0" }, { name: "PORT", value: "3000" }]);

    expect(pod.serviceAccountName).toBe("jit-access");
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(one(docs, "ServiceAccount").automountServiceAccountToken).toBe(false);

    // The PDB and the Service select exactly the Deployment's pods.
    const podLabels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual({ "app.kubernetes.io/name": "jit-access" });
    expect(podLabels).toMatchObject(deployment.spec.selector.matchLabels);
    const pdb = one(docs, "PodDisruptionBudget");
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: deployment.spec.selector.matchLabels } });
    const service = one(docs, "Service");
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(service.spec.ports).toEqual([{ name: "http", port: 80, targetPort: "http" }]);
  });

  it("overlays/replicas: three replicas, rolling, REDIS_URL required from the Secret", () => {
    const docs = render("overlays/replicas");
    const deployment = one(docs, "Deployment");
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy.type).toBe("RollingUpdate");
    const container = deployment.spec.template.spec.containers[0];
    expect(container.env).toContainEqual({ name: "REDIS_URL", valueFrom: { secretKeyRef: { name: "jit-access", key: "REDIS_URL", optional: false } } });
    // Everything the base holds, unchanged.
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(one(docs, "PodDisruptionBudget").spec.maxUnavailable).toBe(1);
    expect(docs.some((d) => d.kind === "ServiceMonitor")).toBe(false);
  });

  it("overlays/replicas-monitored: the optional ServiceMonitor scrapes /metrics of the Service's pods", () => {
    const docs = render("overlays/replicas-monitored");
    const monitor = one(docs, "ServiceMonitor");
    expect(monitor.spec.endpoints).toEqual([{ port: "http", path: "/metrics", interval: "30s" }]);
    expect(monitor.spec.selector.matchLabels).toEqual(one(docs, "Service").metadata.labels);
    expect(one(docs, "Deployment").spec.replicas).toBe(3);
  });
});
