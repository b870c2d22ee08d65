import type { Delivery } from "../testkit/fake-github.js";
import { ackWorld } from "./ack-world.js";
import { serveFake } from "../testkit/fake-server.js";

/** The ack-latency benchmark's GitHub (see ack-latency.ts): the world, served over HTTP; it reports what reached it when asked. */
const count = Number(process.argv[2] ?? 100);
const { fake, deliveries } = await ackWorld(Array.from({ length: count }, (_, i) => `user${i + 1}`));
const { url } = await serveFake(fake);
process.send!({ kind: "ready", url, deliveries } satisfies { kind: string; url: string; deliveries: Delivery[] });
process.on("message", (m: { kind: string }) => {
  if (m.kind === "count") process.send!({ kind: "count", revokes: fake.requests.filter((r) => r.startsWith("DELETE /orgs/")).length, requests: fake.requests.length });
});
