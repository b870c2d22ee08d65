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
  /** For an endless answer: bytes of body written before the client closed the connection. */
  bodyBytesSent?: number;
}

/** An answer beyond a bare status: headers (a redirect's Location), or a body that never ends. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  endless?: boolean;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Answers, in order; then 204 for the rest. 0 closes the connection without answering. */
  script: (number | Answer)[];
  /** Resolves when the client has closed the connection of an endless answer. */
  endlessClosed(): Promise<void>;
  close(): Promise<void>;
}

/** With a secret, unsigned or mis-signed requests get 401 (a webhook provider receiver); without, anything is accepted (Slack, Teams). */
export async function startReceiver(secret?: string): Promise<Receiver> {
  const received: Received[] = [];
  const script: (number | Answer)[] = [];
  let closedEndless: () => void = () => {};
  const endlessClosed = new Promise<void>((resolve) => (closedEndless = resolve));
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const expected = Buffer.from(`sha256=${createHmac("sha256", secret ?? "").update(raw).digest("hex")}`);
      const given = Buffer.from(String(req.headers["x-jit-signature-256"] ?? ""));
      const signatureValid = secret === undefined || (given.length === expected.length && timingSafeEqual(given, expected));
      const entry: Received = { headers: req.headers, raw, body: JSON.parse(raw || "null"), signatureValid };
      received.push(entry);
      const next = script.shift() ?? (signatureValid ? 204 : 401);
      const answer = typeof next === "number" ? { status: next } : next;
      if (answer.status === 0) {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, answer.headers);
      if (!answer.endless) {
        res.end();
        return;
      }
      // A body that never ends: 16 KiB at a time, as fast as the client reads, until it hangs up.
      const chunk = Buffer.alloc(16 * 1024, "x");
      entry.bodyBytesSent = 0;
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) entry.bodyBytesSent! += chunk.length;
      };
      res.on("drain", pump);
      res.on("close", () => closedEndless());
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/jit`,
    received,
    script,
    endlessClosed: () => endlessClosed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
