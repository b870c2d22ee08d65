import { writeFileSync } from "node:fs";
import { renderProvidersDoc } from "./docs.js";
import { PROVIDERS } from "./table.js";

// `npm run docs:providers`: rewrites docs/providers.md from the provider table.
writeFileSync(new URL("../../docs/providers.md", import.meta.url), renderProvidersDoc(PROVIDERS));
console.log("wrote docs/providers.md");
