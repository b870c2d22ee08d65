import fc from "fast-check";
import { Oracle } from "./oracle.js";
import { advance, requestsArbitrary, runStep, stepArbitrary, type Step } from "./steps.js";
import { World, type RequestSpec } from "./world.js";

/** One lifecycle run: the people's and GitHub's steps, then everything settles and every window ends. */
export interface Scenario {
  /** alice holds `analytics_read` before any grant. */
  standing: boolean;
  requests: RequestSpec[];
  steps: Step[];
}

export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  standing: fc.boolean(),
  requests: requestsArbitrary,
  steps: fc.array(stepArbitrary, { minLength: 5, maxLength: 45 }),
});

export interface Outcome {
  violations: string[];
  /** Errors the app logged (an evaluation that failed, a tamper alert). */
  errors: string[];
  applies: number;
  revokes: number;
  /** Two grants of one person giving one unit were live at once at the target. */
  overlapped: boolean;
}

export async function runScenario(s: Scenario): Promise<Outcome> {
  const world = new World(s.standing);
  const oracle = new Oracle(world);
  const errors: string[] = [];
  try {
    (await world.startInstance()).rebuild();
    // alice's first two requests are open from the start: their grants overlap on analytics_read when both are approved.
    await runStep(world, oracle, { kind: "open", req: 0 }, s.requests);
    await runStep(world, oracle, { kind: "open", req: 1 }, s.requests);
    for (const step of s.steps) {
      const before = world.instances.slice();
      await runStep(world, oracle, step, s.requests);
      await world.settle();
      oracle.check();
      for (const i of before) if (!world.instances.includes(i)) errors.push(...i.errors);
    }
    // The end: GitHub's queued webhooks arrive, a sweep runs, and time passes until every window is over.
    for (let round = 0; round < 4 && world.pending.length; round++) {
      await runStep(world, oracle, { kind: "deliverAll", reverse: false, to: 0 }, s.requests);
      await world.settle();
    }
    world.instances[0]!.sweep();
    await world.settle();
    await advance(world, oracle, 24 * 3600_000);
    oracle.check();
  } finally {
    world.fake.closed = true;
    for (const i of world.instances) {
      errors.push(...i.errors);
      i.stop();
    }
  }
  return { violations: oracle.violations, errors, applies: world.target.applies.length, revokes: world.target.revokes.length, overlapped: overlapped(world) };
}

function overlapped(world: World): boolean {
  const live = new Map<string, string[]>();
  for (const e of world.target.log) {
    if (e.kind === "revoke") {
      live.delete(e.id);
      continue;
    }
    if ([...live.values()].some((units) => units.some((u) => e.units.includes(u)))) return true;
    live.set(e.id, e.units);
  }
  return false;
}
