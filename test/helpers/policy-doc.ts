import { stringify } from "yaml";
import { loadPolicy, type LoadedPolicy } from "../../src/policy/load.js";

/** A policy written as data, loaded as the app loads the file (no YAML aliases for shared objects). */
export function loadPolicyDoc(doc: Record<string, unknown>): LoadedPolicy {
  const r = loadPolicy(".github/jit-access.yml", stringify(doc, { aliasDuplicateObjects: false }));
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.policy;
}
