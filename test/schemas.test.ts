import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import addFormatsImport from "ajv-formats";
import { parse } from "yaml";
import { renderSchemaFile, SCHEMA_FILES } from "../src/schemas/files.js";
import type { Grant } from "../src/schemas/grant.js";
import type { Policy } from "../src/schemas/policy.js";
import { grantYaml, POLICY } from "./helpers/fixtures.js";

const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

describe("schemas/*.json", () => {
  it.each(Object.keys(SCHEMA_FILES))("%s is exactly what the TypeBox source generates (run `npm run schemas`)", (name) => {
    const onDisk = readFileSync(new URL(`../schemas/${name}`, import.meta.url), "utf8");
    expect(onDisk).toBe(renderSchemaFile(SCHEMA_FILES[name]));
  });

  it("validate the spec's examples as files, the way an editor would use them", () => {
    const ajv = addFormats(new Ajv({ strict: false }));
    const grantSchema = JSON.parse(readFileSync(new URL("../schemas/grant.schema.json", import.meta.url), "utf8"));
    const policySchema = JSON.parse(readFileSync(new URL("../schemas/policy.schema.json", import.meta.url), "utf8"));
    expect(ajv.validate(grantSchema, parse(grantYaml({ ticket: "INC-1", emergency: true })))).toBe(true);
    expect(ajv.validate(grantSchema, { ...parse(grantYaml()), extra: 1 })).toBe(false);
    expect(ajv.validate(policySchema, parse(POLICY))).toBe(true);
  });

  it("and the TypeScript types agree with them (this file would not compile otherwise)", () => {
    const grant: Grant = { requester: "a", resource: "r", role: "x", duration: "1h", reason: "because", ticket: "T", start: "s", emergency: true };
    const policy: Policy = { version: 1, resources: { r: { provider: "webhook", roles: { x: { max_duration: "1h", approvals: { mode: "any" } } } } } };
    // @ts-expect-error: the schema has no such key, so neither does the type.
    const unknownKey: Grant = { ...grant, colour: "blue" };
    expect([grant, policy, unknownKey]).toHaveLength(3);
  });
});
