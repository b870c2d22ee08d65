import type { Diagnostic } from "../diagnostics.js";
import { MAX_GRANT_BYTES } from "../policy/paths.js";
import { GrantSchema, type Grant } from "../schemas/grant.js";
import { schemaCheck } from "../schemas/validate.js";
import { parseYamlMapping, type Locator } from "../yaml/safe-parse.js";

export interface ParsedGrant {
  path: string;
  grant: Grant;
  locate: Locator;
}

export type GrantParse = ({ ok: true } & ParsedGrant) | { ok: false; diagnostics: Diagnostic[] };

const checkGrantSchema = schemaCheck<Grant>(GrantSchema);

/** YAML (hostile input refused) then the grant schema; every error at its line and column. */
export function parseGrant(path: string, content: Uint8Array | string): GrantParse {
  const parsed = parseYamlMapping(path, content, { maxBytes: MAX_GRANT_BYTES });
  if (!parsed.ok) return parsed;
  const checked = checkGrantSchema(parsed.value, path, parsed.locate);
  if (!checked.ok) return checked;
  return { ok: true, path, grant: checked.value, locate: parsed.locate };
}
