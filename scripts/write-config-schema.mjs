// Regenerates schema/alignbench.config.schema.json from the zod schema of a config or suite file (the flat
// run config plus include: and the grouped sections; run after `npm run build`).
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { configFileSchema } from "../dist/config/file-schema.js";

const schema = z.toJSONSchema(configFileSchema, { io: "input", unrepresentable: "any" });
writeFileSync(new URL("../schema/alignbench.config.schema.json", import.meta.url), JSON.stringify(schema, null, 2) + "\n");
console.log("wrote schema/alignbench.config.schema.json");
