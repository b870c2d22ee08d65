import cron, { type ScheduledTask } from "node-cron";
import type { GitHub } from "../github/client.js";
import type { Installations, Scheduler } from "./scheduler.js";

/**
 * Installations through Probot: the app's JWT lists them, each gets an installation token.
 * `auth` is Probot's (`app.auth`), through the app's client chooser (see cluster/clients.ts).
 */
export function probotInstallations(auth: (installationId?: number) => Promise<GitHub>): Installations {
  return {
    async list() {
      const appOctokit = await auth();
      const installations = await appOctokit.paginate(appOctokit.rest.apps.listInstallations, { per_page: 100 });
      return installations
        .filter((i) => i.account && !i.suspended_at)
        .map((i) => {
          const account = i.account as { login?: string; slug?: string; type?: string };
          return { id: i.id, account: { login: account.login ?? account.slug ?? "", type: account.type ?? "Organization" } };
        });
    },
    client: (id) => auth(id),
  };
}

/**
 * The sweep on a node-cron schedule (every minute in production). `noOverlap` skips a tick
 * while the previous sweep still runs. Nothing lives only in memory: a restart rebuilds.
 */
export function scheduleSweeps(scheduler: Scheduler, expression: string, log: { error(msg: string): void }): ScheduledTask {
  return cron.schedule(
    expression,
    async () => {
      try {
        await scheduler.sweep();
      } catch (error) {
        log.error(`sweep failed: ${(error as Error).message}`);
      }
    },
    { name: "jit-access-sweep", noOverlap: true, timezone: "UTC" },
  );
}
