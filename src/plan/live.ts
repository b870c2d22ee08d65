import { formatDuration } from "../grant/duration.js";
import type { LoadedPolicy } from "../policy/load.js";
import type { Directory, LiveGrantNote, LiveGrantProblem, PlannedGrant } from "./types.js";

/**
 * Live grants the new policy would not allow, grouped by role and reason. A policy change never
 * revokes anything: each keeps its window, and the plan says so. A requester is reported only
 * when the new `requesters` surely leaves them out (a team the directory does not know may hold them).
 */
export function liveGrantNotes(policy: LoadedPolicy, grants: readonly PlannedGrant[], directory: Directory | undefined): LiveGrantNote[] {
  const groups = new Map<string, { grant: PlannedGrant; problem: LiveGrantProblem; numbers: number[]; maxMs: number }>();
  const note = (grant: PlannedGrant, problem: LiveGrantProblem, maxMs = 0) => {
    const key = JSON.stringify([grant.resource, grant.role, problem]);
    const known = groups.get(key) ?? { grant, problem, numbers: [], maxMs };
    known.numbers.push(grant.number);
    groups.set(key, known);
  };
  for (const g of grants) {
    const role = policy.role(g.resource, g.role);
    if (!policy.resource(g.resource)) note(g, "resource-removed");
    else if (!role) note(g, "role-removed");
    else {
      const max = g.emergency && policy.breakGlass ? policy.breakGlass.maxDurationMs : role.maxDurationMs;
      if (g.durationMs > max) note(g, "exceeds-max-duration", max);
      if (policy.requesters && surelyLeftOut(g.requester, policy.requesters, directory)) note(g, "requester-not-allowed");
    }
  }
  return [...groups.values()].map(({ grant, problem, numbers, maxMs }) => {
    const one = numbers.length === 1;
    const subject = `${numbers.length} live grant${one ? "" : "s"} of ${grant.resource}/${grant.role}`;
    const why = {
      "resource-removed": `${subject}: the resource is removed`,
      "role-removed": `${subject}: the role is removed`,
      "exceeds-max-duration": `${subject} ${one ? "exceeds" : "exceed"} the new ${formatDuration(maxMs)} maximum`,
      "requester-not-allowed": `${subject} ${one ? "is" : "are"} held by people the new requesters leave out`,
    }[problem];
    return { resource: grant.resource, role: grant.role, problem, numbers, text: `${why}; ${one ? "it keeps its" : "they keep their"} window` };
  });
}

function surelyLeftOut(login: string, requesters: readonly string[], directory: Directory | undefined): boolean {
  const me = login.toLowerCase();
  return requesters.every((g) => {
    const group = g.toLowerCase();
    if (!group.includes("/")) return group !== `@${me}`;
    const members = directory?.get(group);
    return members !== undefined && !members.some((m) => m.toLowerCase() === me);
  });
}
