import type { ApplyPlan, Effect } from "../lifecycle/decision.js";
import type { GrantRecord } from "../lifecycle/record.js";
import type { RequestSnapshot } from "../lifecycle/snapshot.js";
import type { ProviderFactory } from "../providers/registry.js";
import { ProviderError, type GrantTarget, type Handover, standingOf, unitsToRevoke } from "../providers/types.js";
import type { GitHub } from "./client.js";
import { labelledLiveGrants, listLiveGrants, stillGives, TooManyGrantFiles, type LiveGrantLister } from "./live-grants.js";
import { personKey, processTurns, type PersonLock } from "./person-lock.js";
import { alertFields, grantFields, type Log } from "../logging.js";

/**
 * The provider effects: apply and revoke, each inside the requester's turn (person-lock.ts) so
 * that what is held, what other grants give and this grant's change are read and made with none
 * of the person's other grants applying or revoking meanwhile — on any replica, with `personLock`.
 * What they record goes through the callbacks, inside the turn: a grant that has ended must never
 * count as still giving its units.
 */
export interface GrantEffectOptions {
  appId: number;
  now: () => Date;
  providers: ProviderFactory;
  liveGrants?: LiveGrantLister;
  /** The person's turn: across replicas with REDIS_URL; by default, this process's only. */
  personLock?: PersonLock;
  log: Log;
  onAlert?: (kind: "bypass" | "tamper", message: string) => void;
}

export type ApplyOutcome = { kind: "applied"; at: Date; standing: string[]; access: string; handover?: Handover } | { kind: "failed"; message: string; standing: string[] | undefined };
export type RevokeOutcome = { kind: "revoked"; at: Date } | { kind: "already-ended" } | { kind: "failed"; message: string };

/**
 * The target as providers get it: with the requester's user id, from the record, or (a grant
 * recorded before ids were) the PR's author, whom the requester must be.
 */
function withRequesterId(s: RequestSnapshot, target: GrantTarget): GrantTarget {
  return { ...target, requesterId: target.requesterId ?? s.record?.requester_id ?? s.pr.authorId };
}

/** The requester's other grants in this repository that may hold access (reference counting). */
function otherLiveGrants(gh: GitHub, s: RequestSnapshot, t: GrantTarget, options: GrantEffectOptions) {
  const path = s.record?.path ?? (s.kind.kind === "request" ? s.kind.file.path : "");
  const q = { defaultBranch: s.defaultBranch, except: s.pr.number, path, requester: t.requester, requesterId: t.requesterId, appId: options.appId, now: options.now(), repoId: s.repoId };
  return (options.liveGrants ?? listLiveGrants)(gh, { owner: s.owner, repo: s.repo }, q);
}

/**
 * The other live grants; undefined when they cannot be read within bounds (grant files pushed
 * straight to the default branch), with an alert: a revoke then takes all but recorded standing
 * access, an apply records none — another grant of the person may lose its access early, and
 * nothing is ever kept that should not be.
 */
async function liveOthersOr(gh: GitHub, s: RequestSnapshot, t: GrantTarget, options: GrantEffectOptions, doing: "apply" | "revoke") {
  try {
    return await otherLiveGrants(gh, s, t, options);
  } catch (error) {
    if (!(error instanceof TooManyGrantFiles)) throw error;
    const message = `tamper: ${doing === "apply" ? "applying" : "revoking"} ${t.id} without reference counting: ${error.message}`;
    options.log.error(message, alertFields("tamper", grantFields(t, doing, "alert")));
    options.onAlert?.("tamper", message);
    return undefined;
  }
}

/**
 * State first: the units the requester already holds (and not through another live grant) are
 * recorded before anything is applied, so a later revoke never removes standing access. An
 * evaluation that finds them recorded (re-read in its turn) uses that record rather than looking
 * again after the grant may already have been applied.
 */
export async function applyGrant(
  gh: GitHub,
  s: RequestSnapshot,
  plan: ApplyPlan,
  record: { fresh(): Promise<GrantRecord | undefined>; holding(standing: string[]): Promise<void> },
  options: GrantEffectOptions,
): Promise<ApplyOutcome> {
  const t = withRequesterId(s, plan.target);
  const provider = options.providers(t.provider, gh);
  if (!provider) return { kind: "failed", message: `no provider named ${t.provider}`, standing: plan.standing };
  let standing = plan.standing;
  try {
    const recorded = await (options.personLock ?? processTurns).run(personKey(s, t), "apply", async () => {
      // The others are read alongside the record (not after it): most often the record holds no
      // standing yet, and the apply would otherwise wait for one more round trip. Read for nothing
      // when it does (an interrupted apply tried again).
      const othersRead = standing === undefined && plan.standingFromTarget !== false ? liveOthersOr(gh, s, t, options, "apply") : undefined;
      othersRead?.catch(() => {}); // awaited below when needed; unused, its failure changes nothing
      // Re-read in turn, not before: another evaluation of this grant may have recorded its standing
      // and applied while this one waited, and what is held now includes what that one gave.
      standing ??= (await record.fresh())?.standing;
      if (!standing) {
        if (plan.standingFromTarget === false) standing = [];
        else {
          // The others before what is held: should a revoke of another grant ever run meanwhile
          // (a replica cut off from Redis revokes without the shared lock), a grant still live when
          // the others are read gives its unit, so that unit is not standing; one ended by then has
          // taken its unit away before its end was recorded, so "held" no longer shows it.
          const others = await (othersRead ?? liveOthersOr(gh, s, t, options, "apply"));
          const held = await provider.held(t);
          // Not known within bounds (grant files pushed straight to the default branch): nothing
          // counts as standing, so this grant's end takes all it gives — never a lock-out.
          standing = others === undefined ? [] : standingOf(provider, t, held, others);
          // Held already: standing only if no record of theirs gives it. A grant whose file left the
          // default branch may be known to no file and to no index of this replica; its PR still
          // shows it (labels the app keeps true), so the person's merged requests are asked too.
          if (others && standing.length > 0) {
            const labelled = (await labelledLiveGrants(gh, { owner: s.owner, repo: s.repo }, { requester: t.requester, except: s.pr.number, appId: options.appId, repoId: s.repoId })).filter((g) => !others.some((o) => o.number === g.number));
            if (labelled.length > 0) standing = standingOf(provider, t, held, [...others, ...labelled]);
          }
        }
        await record.holding(standing);
      }
      const applied = await provider.apply(t);
      return { standing, handover: applied ? applied.handover : undefined };
    });
    options.log.info(`applied ${t.id}: ${provider.describe(t)}`, grantFields(t, "apply", "ok"));
    const { handover } = recorded;
    return { kind: "applied", at: options.now(), standing: recorded.standing, access: provider.describe(t), ...(handover ? { handover } : {}) };
  } catch (error) {
    options.log.warn(`apply of ${t.id} failed: ${(error as Error).message}`, grantFields(t, "apply", "failed"));
    return { kind: "failed", message: shownError(error), standing };
  }
}

/**
 * Revoke, and record the end before the turn passes: the provider takes away only what no
 * standing access and no other live grant still gives. Ended meanwhile (another evaluation, a
 * replica): revoked and recorded once, not again.
 */
export async function revokeGrant(
  gh: GitHub,
  s: RequestSnapshot,
  effect: Extract<Effect, { type: "revoke" }>,
  record: { fresh(): Promise<GrantRecord | undefined>; ended(at: Date): Promise<void> },
  options: GrantEffectOptions,
): Promise<RevokeOutcome> {
  const t = withRequesterId(s, effect.target);
  const provider = options.providers(t.provider, gh);
  if (!provider) return { kind: "failed", message: `no provider named ${t.provider}` };
  try {
    return await (options.personLock ?? processTurns).run(personKey(s, t), "revoke", async (): Promise<RevokeOutcome> => {
      // The others alongside the record, as for an apply: read for nothing only when the grant
      // turns out to have ended already.
      const othersRead = liveOthersOr(gh, s, t, options, "revoke");
      othersRead.catch(() => {}); // awaited below when needed; unused, its failure changes nothing
      const fresh = await record.fresh();
      if (fresh?.status === "EXECUTED" || fresh?.status === "REVOKED") return { kind: "already-ended" };
      const others = ((await othersRead) ?? []).filter((g) => stillGives(g, options.now()));
      const units = unitsToRevoke(provider, t, effect.standing, others);
      await provider.revoke(t, units);
      const at = options.now();
      options.log.info(`revoked ${t.id}: ${units.length ? units.join(", ") : "nothing to remove (standing or still granted)"}`, { ...grantFields(t, "revoke", "ok"), units });
      await record.ended(at);
      return { kind: "revoked", at };
    });
  } catch (error) {
    options.log.error(`revoke of ${t.id} failed: ${(error as Error).message}`, grantFields(t, "revoke", "failed"));
    return { kind: "failed", message: shownError(error) };
  }
}

/** Provider errors are written to be shown (secrets redacted); anything else stays in the log. */
function shownError(error: unknown): string {
  return error instanceof ProviderError ? error.message : "an unexpected error (details in the app's log)";
}
