import { finalFailure, retryAfterMs, RetryableFailure, withRetries } from "../providers/retry.js";
import { envValue, redact } from "../providers/types.js";
import { slackPayload, teamsPayload, type Notification } from "./message.js";

export interface NotifierOptions {
  /** Waits between attempts; the first attempt is immediate. */
  backoffMs: readonly number[];
  timeoutMs: number;
}

export const DEFAULT_NOTIFIER_OPTIONS: NotifierOptions = { backoffMs: [1_000, 5_000, 25_000], timeoutMs: 10_000 };

/** Called once per destination and request when a notification could not be delivered after every attempt. */
export type FailureReport = (n: Notification, destination: string, reason: string) => Promise<void>;

/**
 * Delivers notifications in the background: the lifecycle never waits for Slack or Teams and
 * never fails because of them. Each destination is retried with backoff (network errors, 5xx,
 * 429; a Retry-After that asks for longer is honoured, see providers/retry.ts); a destination
 * that still fails is logged and reported once through `onFailure`.
 */
export class Notifier {
  private pending = new Set<Promise<void>>();

  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly log: { warn(msg: string): void },
    private readonly options: NotifierOptions = DEFAULT_NOTIFIER_OPTIONS,
  ) {}

  send(n: Notification, onFailure: FailureReport): void {
    const targets: [string, string | undefined, () => Record<string, unknown>][] = [
      ["Slack", n.destinations.slackEnv, () => slackPayload(n)],
      ["Microsoft Teams", n.destinations.teamsEnv, () => teamsPayload(n)],
    ];
    for (const [name, envName, payload] of targets) {
      if (!envName) continue;
      const url = envValue(this.env, envName);
      const job = (url ? this.post(url, payload()) : Promise.resolve(`the environment variable ${envName} is not set`)).then(async (failure) => {
        if (failure === undefined) return;
        const reason = redact(failure, [url]);
        this.log.warn(`notification ${n.event} to ${name} failed: ${reason}`);
        await onFailure(n, `${name} (${envName})`, reason).catch((e: unknown) => this.log.warn(`reporting it failed too: ${(e as Error).message}`));
      });
      this.pending.add(job);
      void job.finally(() => this.pending.delete(job));
    }
  }

  /** Resolves when every delivery started so far has finished (tests; a graceful shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Undefined on success, else why it failed after every attempt. */
  private async post(url: string, payload: Record<string, unknown>): Promise<string | undefined> {
    const body = JSON.stringify(payload);
    let attempts = 0;
    const post = async (): Promise<void> => {
      let response: Response;
      try {
        response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body, signal: AbortSignal.timeout(this.options.timeoutMs) });
        await response.arrayBuffer().catch(() => undefined);
      } catch (error) {
        throw new RetryableFailure((error as Error).message);
      }
      if (response.ok) return;
      const status = `HTTP ${response.status}`;
      if (response.status < 500 && response.status !== 429) throw finalFailure(new Error(status));
      throw new RetryableFailure(status, retryAfterMs(response.headers.get("retry-after")));
    };
    try {
      await withRetries(this.options.backoffMs, post, () => void attempts++);
      return undefined;
    } catch (error) {
      const last = (error as Error).message;
      if (!(error instanceof RetryableFailure)) return last;
      return `${last} after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
    }
  }
}
