import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { FakeGitHub } from "./fake-github.js";

/**
 * The in-memory GitHub over HTTP, for benchmarks that run the app in another process (so GitHub's
 * own work is not billed to the app's event loop). `forwardTo` gives the app a `fetch` that sends
 * what Octokit addresses to api.github.com here instead.
 */
export async function serveFake(fake: FakeGitHub): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const body = await read(req);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    const response = await fake.fetch(`https://api.github.com${req.url}`, { method: req.method ?? "GET", headers, ...(body ? { body } : {}) });
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => (out[k] = v));
    res.writeHead(response.status, out).end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export function forwardTo(url: string): typeof fetch {
  return (input, init) => fetch(String(input instanceof Request ? input.url : input).replace("https://api.github.com", url), init);
}

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
