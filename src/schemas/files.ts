import { GrantSchema } from "./grant.js";
import { PolicySchema } from "./policy.js";

/**
 * The JSON Schema files under schemas/ are generated from the TypeBox definitions, which
 * also give the TypeScript types: one source of truth. `npm run schemas` rewrites them and
 * a test fails when they drift.
 */
export const SCHEMA_FILES: Record<string, unknown> = {
  "grant.schema.json": GrantSchema,
  "policy.schema.json": PolicySchema,
};

export function renderSchemaFile(schema: unknown): string {
  return `${JSON.stringify({ $schema: "http://json-schema.org/draft-07/schema#", ...(schema as object) }, null, 2)}\n`;
}
