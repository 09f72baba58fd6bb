import { writeFileSync } from "node:fs";
import { configJsonSchema } from "../src/config/json-schema.ts";

/** `npm run config:schema`: regenerates switchyard.schema.json (editors complete the config file with it). */
writeFileSync("switchyard.schema.json", `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log("wrote switchyard.schema.json");
