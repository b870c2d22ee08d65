import type { IncomingMessage, ServerResponse } from "node:http";
import type { Metrics } from "../metrics.js";
import type { Readiness } from "./readiness.js";

/**
 * GET /healthz, /readyz and /metrics (docs/operations/observability.md), as a handler for Probot's own HTTP server
 * (its `addHandler` option), on the port of the webhook route. Other requests are left to the
 * handlers after it (Probot's 404). None of them needs a secret or shows one. /healthz and
 * /readyz answer at once, from what the process knows (readiness.ts).
 */
export function serviceRoutes(metrics: Metrics, readiness: Readiness) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/healthz") return send(res, 200, "application/json", `${JSON.stringify(readiness.health())}\n`);
    if (path === "/readyz") {
      const report = readiness.ready();
      return send(res, report.ready ? 200 : 503, "application/json", `${JSON.stringify(report)}\n`);
    }
    if (path === "/metrics") return send(res, 200, metrics.registry.contentType, await metrics.text());
    return false;
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): true {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  res.end(res.req.method === "HEAD" ? undefined : body);
  return true;
}
