import cron, { type ScheduledTask } from "node-cron";
import type { Probot } from "probot";
import type { GitHub } from "../github/client.js";
import { evaluatePullRequest, type AppDeps } from "../handlers/evaluate.js";
import { sweepPendingTimeouts, sweepUnapplied } from "./sweep.js";

/**
 * The sweep over every installation, on a node-cron schedule. It keeps nothing in memory:
 * each run finds its work through GitHub, so a restart loses nothing and two replicas only
 * repeat idempotent evaluations. `noOverlap` skips a tick while the previous run is still going.
 */
export async function sweepAllInstallations(app: Probot, deps: AppDeps): Promise<{ installations: number; evaluated: number }> {
  const appOctokit = await app.auth();
  const installations = await appOctokit.paginate(appOctokit.rest.apps.listInstallations, { per_page: 100 });
  let evaluated = 0;
  for (const installation of installations) {
    const account = installation.account as { login?: string; type?: string; slug?: string } | null;
    if (!account) continue;
    const gh: GitHub = await app.auth(installation.id);
    const log = app.log.child({ installation: installation.id });
    try {
      const owner = { login: account.login ?? account.slug ?? "", type: account.type ?? "Organization" };
      const evaluate = (ref: Parameters<typeof evaluatePullRequest>[1]) => evaluatePullRequest(gh, ref, deps, log);
      evaluated += (await sweepPendingTimeouts(gh, owner, deps.now(), evaluate)).evaluated;
      evaluated += await sweepUnapplied(gh, owner, evaluate);
    } catch (error) {
      // One installation's failure (suspended, rate-limited) must not stop the others.
      log.error(error as Error, "sweep failed for this installation");
    }
  }
  return { installations: installations.length, evaluated };
}

export function scheduleSweeps(app: Probot, deps: AppDeps, expression: string): ScheduledTask {
  return cron.schedule(
    expression,
    async () => {
      try {
        await sweepAllInstallations(app, deps);
      } catch (error) {
        app.log.error(error as Error, "sweep failed");
      }
    },
    { name: "jit-access-sweep", noOverlap: true, timezone: "UTC" },
  );
}
