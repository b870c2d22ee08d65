import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware, Probot, type ApplicationFunction } from "probot";
import { createApp } from "../src/app.js";
import { providerFactory } from "../src/providers/registry.js";
import { ACK_APP_ID, ACK_SECRET } from "./ack-world.js";
import { forwardTo } from "../testkit/fake-server.js";

/**
 * The ack-latency benchmark's app (see ack-latency.ts), as `probot run` serves it: Probot's own
 * Octokit with its throttle and retries on, its webhook middleware on an HTTP server. Its GitHub is
 * the in-memory one in another process. With `baseline`, the same Probot runs a handler that does
 * nothing: what Probot and the machine cost, to compare the app with.
 */
const [github, variant] = [process.argv[2]!, process.argv[3]];
const appFn: ApplicationFunction = variant === "baseline" ? (app) => void app.on("issue_comment.created", async () => {}) : createApp({ appId: ACK_APP_ID, providers: providerFactory({}), sweepSchedule: null });
let errors = 0;
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
const probot = new Probot({ appId: ACK_APP_ID, privateKey, secret: ACK_SECRET, logLevel: "fatal", request: { fetch: forwardTo(github) } });
const middleware = await createNodeMiddleware(appFn, { probot });
probot.onError(() => void errors++);
const server = createServer((req, res) => void middleware(req, res, () => res.writeHead(404).end()));
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
process.send!({ kind: "ready", port: (server.address() as AddressInfo).port });
process.on("message", (m: { kind: string }) => {
  if (m.kind === "errors") process.send!({ kind: "errors", errors });
});
