import { readFileSync, writeFileSync } from "node:fs";
import { BUILTIN_DEFAULTS } from "../../src/policy/load.js";
import { policyReference } from "./policy-reference.js";

/** `npm run docs`: rewrites the generated pages of docs/ (today docs/reference/policy.md). */
const root = new URL("../../../", import.meta.url);
const schema = JSON.parse(readFileSync(new URL("schemas/policy.schema.json", root), "utf8"));
writeFileSync(new URL("docs/reference/policy.md", root), policyReference(schema, BUILTIN_DEFAULTS));
console.log("wrote docs/reference/policy.md");
