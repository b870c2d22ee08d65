import type { MembershipLookup } from "../approval/evaluate.js";
import type { GrantTarget } from "../providers/types.js";
import { completeRecord } from "./complete.js";
import type { Decision, Effect } from "./decision.js";
import type { End, GrantRecord } from "./record.js";
import { revokeRequests, withCounts } from "./revoke-commands.js";
import type { RequestSnapshot } from "./snapshot.js";
import { STATUS_LABELS } from "./status.js";

/**
 * A live grant (state APPROVED) and the ends it can come to (docs: statuses): its window passes,
 * an eligible `/jit revoke`, or a merged PR that deletes its file. Access is taken away first;
 * the revert PR that records the end in git history follows and never delays it. A revoke that
 * fails is retried with backoff and never reported as done.
 */
export function decideLive(s: RequestSnapshot, st: GrantRecord, now: Date, teamMember: MembershipLookup): Decision {
  // An end already decided (its revoke failed and waits for a retry) stands, whatever became of what asked for it.
  let end: End | undefined = st.ending;
  // Its file left the default branch (a merged deletion, a push): the grant ends early. The app's
  // own revert PR only merges after the end is recorded, so it never lands here.
  if (!end && s.grantOnDefaultBranch === false) end = { status: "REVOKED", endedBy: `its grant file was removed from ${s.defaultBranch}`, revert: false };
  // Commands count from the merge on (inclusive): one written while the grant was scheduled or being
  // applied (a start can overtake its evaluation) still ends it; one from before the merge does not.
  const since = s.pr.mergedAt ? Date.parse(s.pr.mergedAt) : Date.parse(st.applied_at ?? "");
  const asked = revokeRequests(s, st, since, teamMember, s.pr.mergedAt !== undefined);
  if (!end && asked.revoke) end = { status: "REVOKED", endedBy: `revoked by ${asked.revoke.login}${asked.revoke.reason ? `: ${asked.revoke.reason}` : ""}`, revert: true };
  if (!end && now.getTime() >= Date.parse(st.expires_at!)) end = { status: "EXECUTED", endedBy: "its window ended", revert: true };

  if (end) {
    if (st.next_revoke_at && Date.parse(st.next_revoke_at) > now.getTime()) return { status: "APPROVED", effects: [] };
    const record = completeRecord(s, withCounts(st, asked.counted));
    return { status: "APPROVED", record, effects: [revokeEffect(s, record, end)] };
  }

  const state: GrantRecord = { ...withCounts(st, asked.counted) };
  const effects: Effect[] = [...asked.replies];
  if (st.warn_at && now.getTime() >= Date.parse(st.warn_at) && !st.warned_at) {
    state.warned_at = now.toISOString();
    effects.push({ type: "warn" });
  }
  const changed = effects.length > 0 || asked.counted.answered_through !== undefined;
  return {
    status: "APPROVED",
    label: STATUS_LABELS.APPROVED,
    ...(changed ? { record: completeRecord(s, state), view: { kind: "record" as const } } : {}),
    effects,
  };
}

/** Where a recorded grant's access lives, from its record alone (the policy may have changed since). */
export function targetOf(s: Pick<RequestSnapshot, "owner" | "repo" | "pr">, st: GrantRecord): GrantTarget {
  const grant = st.grant!;
  return {
    // Recorded when first applied; records from before that named grants by the repository's name.
    id: st.grant_id ?? `${s.owner}/${s.repo}#${s.pr.number}`,
    requester: grant.requester,
    resource: grant.resource,
    role: grant.role,
    provider: st.target!.provider,
    config: st.target!.config,
    grant: st.target!.grant,
    startsAt: st.starts_at!,
    expiresAt: st.expires_at!,
    pullRequest: s.pr.url,
  };
}

export function revokeEffect(s: RequestSnapshot, st: GrantRecord, end: End): Effect {
  const path = st.path ?? (s.kind.kind === "request" ? s.kind.file.path : "");
  const blobSha = st.blob ?? (s.kind.kind === "request" ? s.kind.file.blobSha : "");
  return {
    type: "revoke",
    target: targetOf(s, st),
    standing: st.standing ?? [],
    end,
    revert: end.revert && path ? { branch: `jit-access/revert-${s.pr.number}`, path, blobSha, purpose: "end" } : undefined,
  };
}
