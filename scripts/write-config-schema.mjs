// Regenerates schema/alignbench.config.schema.json from the zod schema (run after `npm run build`).
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { runConfigSchema } from "../dist/config/schema.js";

const schema = z.toJSONSchema(runConfigSchema, { io: "input", unrepresentable: "any" });
writeFileSync(new URL("../schema/alignbench.config.schema.json", import.meta.url), JSON.stringify(schema, null, 2) + "\n");
console.log("wrote schema/alignbench.config.schema.json");
