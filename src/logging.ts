import { getTransformStream } from "@probot/pino";
import { pino, type DestinationStream, type Logger } from "pino";

/** Fields a log line carries besides its message (JSON keys in the output). */
export type LogFields = Record<string, unknown>;

/**
 * The app's log: a message and, for anything about a grant, fields that a log search can select
 * on (`grantFields`). Test doubles may ignore the fields.
 */
export interface Log {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** The part of a pino logger (Probot's `app.log`, `context.log`) the app writes to. */
export interface PinoLike {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

/**
 * A pino logger as a `Log`: the fields become the line's keys (pino's `log.info(fields, msg)`); a
 * line without fields is written as a message alone, as before fields existed.
 */
export function fieldLog(target: () => PinoLike | undefined): Log {
  const write = (level: "info" | "warn" | "error") => (msg: string, fields?: LogFields) => {
    const log = target();
    if (!log) return;
    if (fields) log[level](fields, msg);
    else log[level](msg);
  };
  return { info: write("info"), warn: write("warn"), error: write("error") };
}

/** What every log line about a grant carries: one shape, whichever step wrote it. */
export type GrantLogFields = {
  /** The request's id (`repo:<repository id>#<number>`). */
  request: string;
  requester: string;
  resource: string;
  role: string;
  action: "apply" | "revoke" | "merge" | "revert" | "alert";
  outcome: "ok" | "failed" | "skipped" | "alert";
};

export function grantFields(t: { id: string; requester: string; resource: string; role: string }, action: GrantLogFields["action"], outcome: GrantLogFields["outcome"]): GrantLogFields {
  return { request: t.id, requester: t.requester, resource: t.resource, role: t.role, action, outcome };
}

/**
 * An alert (something security must hear about) in the log: `alert: true` and its `reason`, at
 * level error, so one query (`alert:true`) finds them all; the metric is jit_alerts_total{reason}.
 */
export function alertFields(reason: string, fields: LogFields = {}): LogFields {
  return { ...fields, alert: true, reason };
}

/**
 * Keys removed from every line (pino's `redact`), wherever a library puts them: an HTTP request's
 * credentials (pino-http's `req`), Octokit errors' request headers, and any field named like a
 * secret. Messages never carry secrets (provider errors are redacted where they are written); this
 * covers objects logged whole.
 */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["proxy-authorization"]',
  "headers.authorization",
  "request.headers.authorization",
  "err.request.headers.authorization",
  "err.headers.authorization",
  "err.response.headers.authorization",
  "error.request.headers.authorization",
  ...["token", "password", "secret", "privateKey", "private_key", "webhookSecret", "clientSecret", "apiKey", "authorization"].flatMap((key) => [key, `*.${key}`]),
];

export type LogFormat = "json" | "pretty";

/**
 * JSON unless LOG_FORMAT=pretty: an access tool's log is audit evidence, read by machines first
 * (Probot's own rule is pretty unless NODE_ENV=production; this app's is JSON everywhere, pretty
 * only when asked for, e.g. on a developer's terminal).
 */
export function logFormat(env: NodeJS.ProcessEnv): LogFormat {
  return env.LOG_FORMAT === "pretty" ? "pretty" : "json";
}

/**
 * The process's logger, handed to Probot (`run(app, { log })`) in place of the one `probot run`
 * builds: the same levels, message key, pretty printing and Sentry (Probot's @probot/pino), plus
 * `redact` and this app's default format.
 */
export async function createLogger(env: NodeJS.ProcessEnv, destination: DestinationStream = pino.destination(1)): Promise<Logger> {
  const transform = await getTransformStream({
    logFormat: logFormat(env),
    logLevelInString: env.LOG_LEVEL_IN_STRING === "true",
    ...(env.SENTRY_DSN ? { sentryDsn: env.SENTRY_DSN } : {}),
  });
  transform.pipe(destination as NodeJS.WritableStream);
  return pino(
    {
      level: env.LOG_LEVEL || "info",
      messageKey: env.LOG_MESSAGE_KEY || "msg",
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    transform,
  );
}
