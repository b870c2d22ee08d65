import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";

/**
 * A real HTTP receiver on loopback that checks `X-Jit-Signature-256` the way a real receiver
 * would (HMAC-SHA256 of the raw body, constant-time compare) and answers from a script.
 */
export interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
  signatureValid: boolean;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Status codes to answer, in order; then 204 for the rest. 0 closes the connection without answering. */
  script: number[];
  close(): Promise<void>;
}

/** With a secret, unsigned or mis-signed requests get 401 (a webhook provider receiver); without, anything is accepted (Slack, Teams). */
export async function startReceiver(secret?: string): Promise<Receiver> {
  const received: Received[] = [];
  const script: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const expected = Buffer.from(`sha256=${createHmac("sha256", secret ?? "").update(raw).digest("hex")}`);
      const given = Buffer.from(String(req.headers["x-jit-signature-256"] ?? ""));
      const signatureValid = secret === undefined || (given.length === expected.length && timingSafeEqual(given, expected));
      received.push({ headers: req.headers, raw, body: JSON.parse(raw || "null"), signatureValid });
      const status = script.shift() ?? (signatureValid ? 204 : 401);
      if (status === 0) {
        req.socket.destroy();
        return;
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/jit`,
    received,
    script,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
