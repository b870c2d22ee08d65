/**
 * A FAKE of the AWS IAM Identity Center admin API (SSO Admin), for tests and benches only: no AWS
 * service is reachable from the test machine, so the `aws-identity-center` provider is verified
 * against this, not against AWS. It speaks the wire format the AWS SDK v3 client uses — the
 * awsJson1_1 protocol: `POST /`, `Content-Type: application/x-amz-json-1.1`,
 * `X-Amz-Target: SWBExternalService.<Operation>`, a SigV4 `Authorization` header for the service
 * `sso`, errors as `{"__type": …, "message": …}` with `X-Amzn-ErrorType` and the operation's HTTP
 * status — and it is strict: a request with an unknown field, a missing or malformed required one,
 * or an unknown operation is refused as AWS would (ValidationException, UnknownOperationException).
 *
 * What it models of AWS's behaviour:
 * - account assignments are asynchronous: Create/Delete answer IN_PROGRESS with a request id, and
 *   the change happens when the request settles, after `pollsToSettle` Describe…Status calls;
 * - a create or delete while another one on the same account and permission set is IN_PROGRESS is
 *   refused with ConflictException (AWS's "concurrent change" answer), and conflicts can be injected;
 * - deleting an assignment that does not exist answers ResourceNotFoundException (the fake's choice:
 *   AWS does not document it, and the provider never asks);
 * - throttling (ThrottlingException, HTTP 429 as the service model declares) can be injected;
 * - a settling request can be made to end FAILED with a reason;
 * - ListAccountAssignments pages with an opaque NextToken, `maxPage` entries at most per page.
 * What it does not model: permission set provisioning, IAM, the Identity Store, eventual consistency.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeAssignment {
  AccountId: string;
  PermissionSetArn: string;
  PrincipalType: "USER" | "GROUP";
  PrincipalId: string;
}

interface Operation {
  kind: "create" | "delete";
  status: { Status: "IN_PROGRESS" | "SUCCEEDED" | "FAILED"; RequestId: string; FailureReason?: string; TargetId: string; TargetType: "AWS_ACCOUNT"; PermissionSetArn: string; PrincipalType: string; PrincipalId: string; CreatedDate: number };
  pollsLeft: number;
  failWith: string | undefined;
}

export interface FakeSsoAdminOptions {
  instanceArn: string;
  permissionSets: readonly string[];
  accessKeyId: string;
  region: string;
  /** Describe…Status calls before a request settles (0: it settles before its first status read). */
  pollsToSettle?: number;
  /** At most this many assignments per ListAccountAssignments page. */
  maxPage?: number;
}

export class FakeSsoAdmin {
  readonly assignments: FakeAssignment[] = [];
  /** Every operation called, in order (X-Amz-Target without the service prefix). */
  readonly calls: string[] = [];
  pollsToSettle: number;
  private readonly operations = new Map<string, Operation>();
  private throttles: { count: number; operation?: string | undefined } = { count: 0 };
  private conflicts: { count: number; operation?: string | undefined } = { count: 0 };
  private failures: { kind: "create" | "delete"; reason: string }[] = [];
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private readonly maxPage: number;

  private constructor(private readonly options: FakeSsoAdminOptions) {
    this.pollsToSettle = options.pollsToSettle ?? 1;
    this.maxPage = options.maxPage ?? 100;
  }

  static async start(options: FakeSsoAdminOptions): Promise<FakeSsoAdmin> {
    const fake = new FakeSsoAdmin(options);
    await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** Where it listens (kept after close, to point a client at a closed port). */
  url = "";

  /** The next `count` calls (of `operation` only, when given) answer ThrottlingException. */
  throttle(count: number, operation?: string): void {
    this.throttles = { count, operation };
  }

  /** The next `count` creates or deletes (or calls of `operation`) answer ConflictException. */
  conflict(count: number, operation?: string): void {
    this.conflicts = { count, operation };
  }

  /** The next create (or delete) request accepted ends FAILED with this reason. */
  failNext(kind: "create" | "delete", reason: string): void {
    this.failures.push({ kind, reason });
  }

  inProgress(): number {
    return [...this.operations.values()].filter((o) => o.status.Status === "IN_PROGRESS").length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.startsWith("SWBExternalService.") ? target.slice("SWBExternalService.".length) : "";
    this.calls.push(operation || target);
    const auth = String(req.headers.authorization ?? "");
    const scope = new RegExp(`^AWS4-HMAC-SHA256 Credential=${this.options.accessKeyId}/\\d{8}/${this.options.region}/sso/aws4_request, SignedHeaders=[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$`);
    if (req.method !== "POST" || req.url !== "/") return error(res, 404, "UnknownOperationException", "only POST / is served");
    if (req.headers["content-type"] !== "application/x-amz-json-1.1") return error(res, 400, "SerializationException", "Content-Type must be application/x-amz-json-1.1");
    if (!scope.test(auth) || !req.headers["x-amz-date"]) return error(res, 403, "UnrecognizedClientException", "The security token included in the request is invalid.");
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
    } catch {
      return error(res, 400, "SerializationException", "the body is not JSON");
    }
    const handler = this.handlers[operation];
    if (!handler) return error(res, 400, "UnknownOperationException", `unknown operation ${target}`);
    if (this.throttles.count > 0 && (!this.throttles.operation || this.throttles.operation === operation)) {
      this.throttles.count--;
      return error(res, 429, "ThrottlingException", "Rate exceeded");
    }
    const problem = checkShape(body, SHAPES[operation]!);
    if (problem) return error(res, 400, "ValidationException", problem);
    if (body.InstanceArn !== this.options.instanceArn) return error(res, 404, "ResourceNotFoundException", "The specified instance does not exist.");
    const answer = handler(body);
    if ("error" in answer) return error(res, answer.status, answer.error, answer.message);
    res.writeHead(200, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() }).end(JSON.stringify(answer.body));
  }

  private readonly handlers: Record<string, (body: Record<string, unknown>) => Answer> = {
    CreateAccountAssignment: (body) => this.start("create", body),
    DeleteAccountAssignment: (body) => this.start("delete", body),
    DescribeAccountAssignmentCreationStatus: (body) => this.describe("create", String(body.AccountAssignmentCreationRequestId)),
    DescribeAccountAssignmentDeletionStatus: (body) => this.describe("delete", String(body.AccountAssignmentDeletionRequestId)),
    ListAccountAssignments: (body) => {
      if (!this.options.permissionSets.includes(String(body.PermissionSetArn))) return notFound("The specified permission set does not exist.");
      const matching = this.assignments.filter((a) => a.AccountId === body.AccountId && a.PermissionSetArn === body.PermissionSetArn);
      const from = body.NextToken === undefined ? 0 : decodeToken(String(body.NextToken));
      if (from === undefined) return { status: 400, error: "ValidationException", message: "The NextToken is invalid." };
      const size = Math.min(Number(body.MaxResults ?? 20), this.maxPage);
      const page = matching.slice(from, from + size);
      const next = from + size < matching.length ? Buffer.from(`page:${from + size}`).toString("base64") : undefined;
      return { body: { AccountAssignments: page, ...(next ? { NextToken: next } : {}) } };
    },
  };

  private start(kind: "create" | "delete", body: Record<string, unknown>): Answer {
    if (!this.options.permissionSets.includes(String(body.PermissionSetArn))) return notFound("The specified permission set does not exist.");
    const operationName = kind === "create" ? "CreateAccountAssignment" : "DeleteAccountAssignment";
    const busy = [...this.operations.values()].some((o) => o.status.Status === "IN_PROGRESS" && o.status.TargetId === body.TargetId && o.status.PermissionSetArn === body.PermissionSetArn);
    if (busy || (this.conflicts.count > 0 && (!this.conflicts.operation || this.conflicts.operation === operationName))) {
      if (!busy) this.conflicts.count--;
      return { status: 409, error: "ConflictException", message: "Another operation on this permission set and account is in progress." };
    }
    const assignment = toAssignment(body);
    if (kind === "delete" && !this.assignments.some((a) => same(a, assignment))) return notFound("The specified account assignment does not exist.");
    const failure = this.failures.findIndex((f) => f.kind === kind);
    const failWith = failure >= 0 ? this.failures.splice(failure, 1)[0]!.reason : undefined;
    const status: Operation["status"] = {
      Status: "IN_PROGRESS",
      RequestId: randomUUID(),
      TargetId: assignment.AccountId,
      TargetType: "AWS_ACCOUNT",
      PermissionSetArn: assignment.PermissionSetArn,
      PrincipalType: assignment.PrincipalType,
      PrincipalId: assignment.PrincipalId,
      CreatedDate: Date.now() / 1000,
    };
    const operation: Operation = { kind, status, pollsLeft: this.pollsToSettle, failWith };
    this.operations.set(status.RequestId, operation);
    if (operation.pollsLeft <= 0) this.settle(operation);
    return { body: { [kind === "create" ? "AccountAssignmentCreationStatus" : "AccountAssignmentDeletionStatus"]: { ...status } } };
  }

  private describe(kind: "create" | "delete", requestId: string): Answer {
    const operation = this.operations.get(requestId);
    if (!operation || operation.kind !== kind) return notFound("The specified request does not exist.");
    if (operation.status.Status === "IN_PROGRESS" && --operation.pollsLeft <= 0) this.settle(operation);
    return { body: { [kind === "create" ? "AccountAssignmentCreationStatus" : "AccountAssignmentDeletionStatus"]: { ...operation.status } } };
  }

  private settle(operation: Operation): void {
    if (operation.failWith !== undefined) {
      operation.status = { ...operation.status, Status: "FAILED", FailureReason: operation.failWith };
      return;
    }
    const assignment: FakeAssignment = { AccountId: operation.status.TargetId, PermissionSetArn: operation.status.PermissionSetArn, PrincipalType: operation.status.PrincipalType as "USER" | "GROUP", PrincipalId: operation.status.PrincipalId };
    const at = this.assignments.findIndex((a) => same(a, assignment));
    // Creating an existing assignment succeeds and changes nothing, as on AWS.
    if (operation.kind === "create" && at < 0) this.assignments.push(assignment);
    if (operation.kind === "delete" && at >= 0) this.assignments.splice(at, 1);
    operation.status = { ...operation.status, Status: "SUCCEEDED" };
  }
}

type Answer = { body: unknown } | { status: number; error: string; message: string };

const notFound = (message: string): Answer => ({ status: 404, error: "ResourceNotFoundException", message });

function error(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": type, "x-amzn-requestid": randomUUID() });
  res.end(JSON.stringify({ __type: `com.amazonaws.ssoadmin#${type}`, message }));
}

function toAssignment(body: Record<string, unknown>): FakeAssignment {
  return { AccountId: String(body.TargetId), PermissionSetArn: String(body.PermissionSetArn), PrincipalType: body.PrincipalType as "USER" | "GROUP", PrincipalId: String(body.PrincipalId) };
}

function same(a: FakeAssignment, b: FakeAssignment): boolean {
  return a.AccountId === b.AccountId && a.PermissionSetArn === b.PermissionSetArn && a.PrincipalType === b.PrincipalType && a.PrincipalId === b.PrincipalId;
}

function decodeToken(token: string): number | undefined {
  const match = /^page:(\d+)$/.exec(Buffer.from(token, "base64").toString("utf8"));
  return match ? Number(match[1]) : undefined;
}

// The request shapes of the SSO Admin model (required fields, patterns), for the operations served.
const INSTANCE = /^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/;
const PERMISSION_SET = /^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/;
const ACCOUNT = /^\d{12}$/;
const PRINCIPAL = /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;
const UUID = /^\b[0-9a-f]{8}\b-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-\b[0-9a-f]{12}\b$/;

type Field = { required: boolean; check: (value: unknown) => boolean };
const req = (check: (value: unknown) => boolean): Field => ({ required: true, check });
const opt = (check: (value: unknown) => boolean): Field => ({ required: false, check });
const matches = (pattern: RegExp) => (value: unknown) => typeof value === "string" && pattern.test(value);
const oneOf = (...values: string[]) => (value: unknown) => typeof value === "string" && values.includes(value);

const ASSIGNMENT: Record<string, Field> = {
  InstanceArn: req(matches(INSTANCE)),
  TargetId: req(matches(ACCOUNT)),
  TargetType: req(oneOf("AWS_ACCOUNT")),
  PermissionSetArn: req(matches(PERMISSION_SET)),
  PrincipalType: req(oneOf("USER", "GROUP")),
  PrincipalId: req(matches(PRINCIPAL)),
};

const SHAPES: Record<string, Record<string, Field>> = {
  CreateAccountAssignment: ASSIGNMENT,
  DeleteAccountAssignment: ASSIGNMENT,
  DescribeAccountAssignmentCreationStatus: { InstanceArn: req(matches(INSTANCE)), AccountAssignmentCreationRequestId: req(matches(UUID)) },
  DescribeAccountAssignmentDeletionStatus: { InstanceArn: req(matches(INSTANCE)), AccountAssignmentDeletionRequestId: req(matches(UUID)) },
  ListAccountAssignments: {
    InstanceArn: req(matches(INSTANCE)),
    AccountId: req(matches(ACCOUNT)),
    PermissionSetArn: req(matches(PERMISSION_SET)),
    MaxResults: opt((v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 100),
    NextToken: opt((v) => typeof v === "string" && v.length <= 2048),
  },
};

/** The first problem with a request body, in the words AWS uses; undefined when it fits the shape. */
function checkShape(body: Record<string, unknown>, shape: Record<string, Field>): string | undefined {
  for (const key of Object.keys(body)) if (!Object.hasOwn(shape, key)) return `Unknown field ${key}`;
  for (const [key, field] of Object.entries(shape)) {
    if (body[key] === undefined || body[key] === null) {
      if (field.required) return `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`;
      continue;
    }
    if (!field.check(body[key])) return `1 validation error detected: Value at '${key}' failed to satisfy constraint`;
  }
  return undefined;
}
