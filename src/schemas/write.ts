import { writeFileSync } from "node:fs";
import { SCHEMA_FILES, renderSchemaFile } from "./files.js";

const dir = new URL("../../schemas/", import.meta.url);
for (const [name, schema] of Object.entries(SCHEMA_FILES)) {
  writeFileSync(new URL(name, dir), renderSchemaFile(schema));
  console.log(`wrote schemas/${name}`);
}
