import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsImport from "ajv-formats";
import { sortDiagnostics, type Diagnostic } from "../diagnostics.js";
import type { Locator, YamlPath } from "../yaml/safe-parse.js";

// ajv-formats ships a CommonJS default export that nodenext sees as a namespace.
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

// One compiler for the process. `$data` stays off: schemas never read values from the data.
const ajv = addFormats(new Ajv({ allErrors: true, verbose: true, strict: true, coerceTypes: false }));

export type SchemaCheck<T> = (value: unknown, path: string, locate: Locator) => { ok: true; value: T } | { ok: false; diagnostics: Diagnostic[] };

/** Compiles a TypeBox/JSON schema into a check whose errors point at lines and columns. */
export function schemaCheck<T>(schema: object): SchemaCheck<T> {
  const validate: ValidateFunction = ajv.compile(schema);
  return (value, path, locate) => {
    if (validate(value)) return { ok: true, value: value as T };
    return { ok: false, diagnostics: sortDiagnostics(explain(validate.errors ?? [], path, locate)) };
  };
}

function explain(errors: ErrorObject[], path: string, locate: Locator): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const error of errors) {
    // A failed union reports each branch and then "anyOf"; the branches say nothing the union's description does not.
    if (error.keyword === "const" && errors.some((e) => e.keyword === "anyOf" && e.instancePath === error.instancePath)) continue;
    const where = pointerToPath(error.instancePath);
    const { message, range } = describeError(error, where, locate);
    const key = `${range.line}:${range.column}:${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message, ...range });
  }
  return out;
}

function describeError(error: ErrorObject, where: YamlPath, locate: Locator) {
  const field = where.length ? where.join(".") : "the file";
  const description = (error.parentSchema as { description?: string } | undefined)?.description;
  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(error.params.additionalProperty);
      return { message: `unknown key "${key}"${where.length ? ` in ${field}` : ""}`, range: locate.key([...where, key]) };
    }
    case "required": {
      const key = String(error.params.missingProperty);
      return { message: `missing required key "${key}"${where.length ? ` in ${field}` : ""}`, range: locate.key(where) };
    }
    case "propertyNames":
      return { message: `${field} has a key that is not ${description ?? "allowed"}`, range: locate.key(where) };
    case "type":
      return { message: `${field} must be ${description ?? `a ${String(error.params.type)}`}, not ${kindOf(error.data)}`, range: locate.value(where) };
    case "minProperties":
      return { message: `${field} must not be empty`, range: locate.value(where) };
    case "minLength":
      return { message: `${field} must not be empty`, range: locate.value(where) };
    case "maxLength":
      return { message: `${field} is longer than ${String(error.params.limit)} characters`, range: locate.value(where) };
    case "maxItems":
      return { message: `${field} has more than ${String(error.params.limit)} entries`, range: locate.value(where) };
    case "minItems":
      return { message: `${field} must have at least ${String(error.params.limit)} entries`, range: locate.value(where) };
    default:
      return {
        message: `${field} must be ${description ?? error.message ?? "valid"}${shown(error.data)}`,
        range: locate.value(where),
      };
  }
}

function shown(data: unknown): string {
  if (typeof data === "string") return `; got ${JSON.stringify(data.length > 60 ? `${data.slice(0, 60)}…` : data)}`;
  if (typeof data === "number" || typeof data === "boolean") return `; got ${String(data)}`;
  return "";
}

function kindOf(data: unknown): string {
  if (data === null) return "empty";
  if (Array.isArray(data)) return "a list";
  if (typeof data === "object") return "a mapping";
  return `the ${typeof data} ${JSON.stringify(data)}`;
}

/** "/roles/read-only/approvals" → ["roles", "read-only", "approvals"] (RFC 6901 unescaping). */
function pointerToPath(pointer: string): YamlPath {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}
