import type { AccountAssignmentOperationStatus, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { Type } from "@sinclair/typebox";
import { Login } from "../schemas/common.js";
import { connectionTrouble, endpointSecrets, envValue, ProviderError, redact, shownSafe, type Env, type GrantTarget, type Provider, type ProviderDefinition } from "./types.js";

/** How long to wait between status polls, how long an assignment may take, and the waits before retrying a throttled or conflicting call. */
export interface AwsIdentityCenterOptions {
  pollMs: number;
  timeoutMs: number;
  backoffMs: readonly number[];
}

export const DEFAULT_AWS_OPTIONS: AwsIdentityCenterOptions = { pollMs: 2_000, timeoutMs: 120_000, backoffMs: [500, 1_000, 2_000, 4_000, 8_000] };

/**
 * The server's own variable (never the policy's: it decides where signed requests and their
 * credentials go) that points the client at another endpoint: a FIPS or GovCloud endpoint, a
 * VPC endpoint, or the in-repo fake in tests. It is the name the AWS SDK itself uses.
 */
export const AWS_ENDPOINT_ENV = "AWS_ENDPOINT_URL_SSO_ADMIN";

/**
 * The SDK, loaded on first use: the policy check reads this module (through the provider table)
 * on every start of the app and the CLI, and importing the SDK costs about half a second.
 */
type Sdk = typeof import("@aws-sdk/client-sso-admin");
let sdkLoaded: Promise<Sdk> | undefined;
const loadSdk = (): Promise<Sdk> => (sdkLoaded ??= import("@aws-sdk/client-sso-admin"));

const InstanceArn = Type.String({ pattern: "^arn:aws[a-z-]*:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$", description: "an IAM Identity Center instance ARN (arn:aws:sso:::instance/ssoins-…)" });
const PermissionSetArn = Type.String({
  pattern: "^arn:aws[a-z-]*:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}$",
  description: "a permission set ARN (arn:aws:sso:::permissionSet/ssoins-…/ps-…)",
});
const PrincipalId = Type.String({ pattern: "^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$", description: "an Identity Store user or group id" });

/** The provider as the table lists it. */
export const awsIdentityCenter = {
  name: "aws-identity-center" as const,
  description: "an AWS IAM Identity Center account assignment of a permission set",
  docs: {
    changes: "creates an account assignment (permission set → user or group on one AWS account); revoking deletes it. Both are asynchronous: only a SUCCEEDED status counts",
    expiresAtTarget: "nothing: the assignment stays until jit-access deletes it (sessions already issued last until their permission set's session duration ends)",
    verifiedAgainst: { kind: "fake", how: "a strict in-repo fake of the SSO Admin JSON API (testkit/fake-sso-admin.ts): no AWS is reachable from the test machine" },
    page: "providers/aws-identity-center.md",
  },
  config: Type.Object(
    {
      instance_arn: InstanceArn,
      region: Type.String({ pattern: "^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$", description: "the AWS region of the Identity Center instance (such as eu-west-1)" }),
      account_id: Type.String({ pattern: "^[0-9]{12}$", description: "a 12-digit AWS account id" }),
      principal_type: Type.Optional(Type.Union([Type.Literal("USER"), Type.Literal("GROUP")], { description: "USER or GROUP: what the principals map points at (USER when absent)" })),
      principals: Type.Record(Login, PrincipalId, { description: "a mapping of GitHub logins to Identity Store user (or group) ids" }),
    },
    { additionalProperties: false },
  ),
  grant: Type.Object({ permission_set_arn: PermissionSetArn }, { additionalProperties: false }),
  create: ({ env }) => awsIdentityCenterProvider(env),
} satisfies ProviderDefinition;

interface Assignment {
  InstanceArn: string;
  TargetId: string;
  TargetType: "AWS_ACCOUNT";
  PermissionSetArn: string;
  PrincipalType: "USER" | "GROUP";
  PrincipalId: string;
}

/** The assignment a grant asks for, from the policy (pure); a login the policy does not map is a clear failure. */
export function assignmentOf(t: GrantTarget): Assignment {
  const principal = principalOf(t);
  if (principal === undefined) throw new ProviderError(`${t.resource}: ${t.requester} has no Identity Center principal in config.principals`, false);
  return {
    InstanceArn: String(t.config.instance_arn),
    TargetId: String(t.config.account_id),
    TargetType: "AWS_ACCOUNT",
    PermissionSetArn: String(t.grant.permission_set_arn),
    PrincipalType: t.config.principal_type === "GROUP" ? "GROUP" : "USER",
    PrincipalId: principal,
  };
}

/** The requester's principal id as the policy maps it (logins compare case-insensitively, as GitHub's do). */
function principalOf(t: GrantTarget): string | undefined {
  const principals = (t.config.principals ?? {}) as Record<string, string>;
  return Object.entries(principals).find(([login]) => login.toLowerCase() === t.requester.toLowerCase())?.[1];
}

/** What to do with a failed call (pure): retry it (throttled, a concurrent change, AWS's or the network's trouble) or give up. */
export function retryableAwsError(error: unknown): boolean {
  const { name, $metadata, $retryable } = error as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (name === "ThrottlingException" || name === "ConflictException" || name === "InternalServerException" || $retryable) return true;
  const status = $metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  return networkTrouble(error) !== undefined;
}

/**
 * A network failure in words that name no endpoint. The SDK's retry layer re-wraps a thrown value
 * that is not an `Error` of its own realm as "AWS SDK error wrapper for Error: connect ECONNREFUSED
 * …", losing the code: then the code is read from those words.
 */
function networkTrouble(error: unknown): string | undefined {
  const direct = connectionTrouble(error);
  if (direct) return direct;
  const code = /\b(E[A-Z]{4,}|UND_ERR_[A-Z_]+)\b/.exec(String((error as { message?: unknown })?.message ?? ""))?.[1];
  return code ? connectionTrouble({ code }) : undefined;
}

/**
 * `aws-identity-center`: an account assignment of the role's permission set to the requester's
 * Identity Store principal (`config.principals` maps GitHub logins to user or group ids) on
 * `config.account_id`. AWS applies assignments asynchronously: a create or delete returns a
 * request id whose status is polled until SUCCEEDED or FAILED, within `timeoutMs`; only
 * SUCCEEDED counts. Throttling and ConflictException (another change to the same permission set
 * in progress) are retried with backoff; the SDK's own retries are off so that one policy, bounded
 * by the same timeout, decides. Credentials come from the standard AWS chain (environment, web
 * identity, container or instance role, profiles), the endpoint from AWS_ENDPOINT_URL_SSO_ADMIN.
 */
export function awsIdentityCenterProvider(env: Env, options: AwsIdentityCenterOptions = DEFAULT_AWS_OPTIONS): Provider {
  const unit = (a: Assignment) => `aws-identity-center:${a.InstanceArn}:${a.TargetId}:${a.PermissionSetArn}:${a.PrincipalType}:${a.PrincipalId}`;
  const endpoint = envValue(env, AWS_ENDPOINT_ENV);
  const secrets = () => endpointSecrets([endpoint, envValue(env, "AWS_SECRET_ACCESS_KEY"), envValue(env, "AWS_SESSION_TOKEN")]);

  function clientFor(sdk: Sdk, t: GrantTarget): SSOAdminClient {
    const accessKeyId = envValue(env, "AWS_ACCESS_KEY_ID");
    const secretAccessKey = envValue(env, "AWS_SECRET_ACCESS_KEY");
    return new sdk.SSOAdminClient({
      region: String(t.config.region),
      maxAttempts: 1,
      ...(endpoint ? { endpoint } : {}),
      // Keys in the server's environment win; without them the SDK's default chain looks further.
      ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, sessionToken: envValue(env, "AWS_SESSION_TOKEN") } } : {}),
    });
  }

  const fail = (t: GrantTarget, what: string, error: unknown, retryable: boolean): never => {
    if (error instanceof ProviderError) throw error;
    const { name, message } = error as { name?: string; message?: string };
    const trouble = networkTrouble(error);
    const shown = trouble
      ? `could not reach AWS (${trouble})`
      : name === "AccessDeniedException"
        ? "access denied (the credentials of jit-access may not change this assignment)"
        : name === "CredentialsProviderError"
          ? "no AWS credentials found in the standard AWS chain"
          : `${name ?? "Error"}: ${message ?? ""}`;
    const detail = `${t.resource}: ${what} failed: ${redact(`${name ?? ""} ${message ?? ""}`, [envValue(env, "AWS_SECRET_ACCESS_KEY"), envValue(env, "AWS_SESSION_TOKEN")])}`;
    throw new ProviderError(`${t.resource}: ${what} failed: ${shownSafe(shown, secrets())}`, retryable, detail);
  };

  /** One call, retried while AWS throttles, reports a concurrent change or a transient failure. */
  async function call<T>(t: GrantTarget, what: string, deadline: number, send: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        const retryable = retryableAwsError(error);
        const wait = options.backoffMs[attempt];
        if (!retryable || wait === undefined || Date.now() + wait > deadline) return fail(t, what, error, retryable);
        await sleep(wait);
      }
    }
  }

  /** Polls a create or delete until AWS says how it ended; a timeout is retryable (asking again is safe). */
  async function settle(t: GrantTarget, what: string, deadline: number, first: AccountAssignmentOperationStatus | undefined, next: (requestId: string) => Promise<AccountAssignmentOperationStatus | undefined>): Promise<void> {
    let status = first;
    while (status?.Status === "IN_PROGRESS") {
      if (Date.now() + options.pollMs > deadline) {
        throw new ProviderError(`${t.resource}: ${what} was still in progress after ${options.timeoutMs / 1000} s; trying again`, true);
      }
      await sleep(options.pollMs);
      status = await next(String(status.RequestId));
    }
    if (status?.Status === "SUCCEEDED") return;
    const reason = status?.FailureReason ? `: ${shownSafe(status.FailureReason, secrets())}` : "";
    throw new ProviderError(`${t.resource}: ${what} ${status?.Status === "FAILED" ? "failed" : `ended in an unknown state (${String(status?.Status)})`}${reason}`, false);
  }

  async function assigned(sdk: Sdk, t: GrantTarget, client: SSOAdminClient, a: Assignment, deadline: number): Promise<boolean> {
    return call(t, "listing the account's assignments", deadline, async () => {
      // A fresh paginator per attempt: a retried listing starts again from the first page.
      const pages = sdk.paginateListAccountAssignments({ client, pageSize: 100 }, { InstanceArn: a.InstanceArn, AccountId: a.TargetId, PermissionSetArn: a.PermissionSetArn });
      for await (const page of pages) {
        if ((page.AccountAssignments ?? []).some((x) => x.PrincipalId === a.PrincipalId && x.PrincipalType === a.PrincipalType)) return true;
      }
      return false;
    });
  }

  async function withClient<T>(t: GrantTarget, work: (sdk: Sdk, client: SSOAdminClient, a: Assignment, deadline: number) => Promise<T>): Promise<T> {
    const a = assignmentOf(t);
    const sdk = await loadSdk();
    const client = clientFor(sdk, t);
    try {
      return await work(sdk, client, a, Date.now() + options.timeoutMs);
    } finally {
      client.destroy();
    }
  }

  return {
    // A login the policy does not map gives nothing (its apply fails): no unit to count.
    units: (t) => (principalOf(t) === undefined ? [] : [unit(assignmentOf(t))]),
    held: (t) => withClient(t, async (sdk, client, a, deadline) => ((await assigned(sdk, t, client, a, deadline)) ? [unit(a)] : [])),
    apply: (t) =>
      withClient(t, async (sdk, client, a, deadline) => {
        // Already assigned (standing access, or a replay): done. Whether AWS accepts creating an
        // existing assignment again is not documented, so it is never asked.
        if (await assigned(sdk, t, client, a, deadline)) return;
        const created = await call(t, "creating the assignment", deadline, () => client.send(new sdk.CreateAccountAssignmentCommand(a)));
        await settle(t, "creating the assignment", deadline, created.AccountAssignmentCreationStatus, async (id) => {
          const described = await call(t, "reading the assignment's status", deadline, () =>
            client.send(new sdk.DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: a.InstanceArn, AccountAssignmentCreationRequestId: id })),
          );
          return described.AccountAssignmentCreationStatus;
        });
      }),
    revoke: async (t, units) => {
      if (principalOf(t) === undefined || !units.includes(unit(assignmentOf(t)))) return;
      await withClient(t, async (sdk, client, a, deadline) => {
        // Gone already (a replay, or removed by hand): done. AWS's answer to deleting a missing
        // assignment is not documented, so it is never asked.
        if (!(await assigned(sdk, t, client, a, deadline))) return;
        try {
          const deleted = await call(t, "deleting the assignment", deadline, () => client.send(new sdk.DeleteAccountAssignmentCommand(a)));
          await settle(t, "deleting the assignment", deadline, deleted.AccountAssignmentDeletionStatus, async (id) => {
            const described = await call(t, "reading the deletion's status", deadline, () =>
              client.send(new sdk.DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: a.InstanceArn, AccountAssignmentDeletionRequestId: id })),
            );
            return described.AccountAssignmentDeletionStatus;
          });
        } catch (error) {
          // A deletion that failed or was refused because a concurrent one removed it first is done.
          if (!(await assigned(sdk, t, client, a, deadline))) return;
          throw error;
        }
      });
    },
    describe: (t) => `the permission set ${String(t.grant.permission_set_arn)} on AWS account ${String(t.config.account_id)} for ${t.requester} (${principalOf(t) ?? "no principal mapped"})`,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
