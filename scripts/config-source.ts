import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { secretRefsOf } from "../src/config/config-rules.ts";
import { isGatewaySecret } from "../src/config/secret-rules.ts";
import { parseConfig } from "../src/config/validate.ts";

/**
 * The config file of the `default` workspace, as `npm run dev`, `npm start` and `npm run deploy` load it:
 * the path in SWITCHYARD_CONFIG (absolute, or relative to the current directory), else ./switchyard.config.json.
 */
export function configPath(): string {
  return resolve(process.cwd(), process.env.SWITCHYARD_CONFIG ?? "switchyard.config.json");
}

/**
 * Reads and validates the config file. An invalid document stops the process with the path of every bad
 * field: the gateway never starts half-configured. Returns the validated document as compact JSON.
 */
export function loadConfigDocument(path = configPath()): string {
  if (!existsSync(path)) {
    console.error(`switchyard: config file not found: ${path}\n  Set SWITCHYARD_CONFIG to a config file, or create ./switchyard.config.json (see switchyard.example.json).`);
    process.exit(1);
  }
  const parsed = parseConfig(readFileSync(path, "utf8"));
  if (!parsed.ok) {
    console.error(`switchyard: invalid config ${path}:`);
    for (const issue of parsed.issues) console.error(`  - ${issue.path}: ${issue.message}`);
    process.exit(1);
  }
  // The allow-list (PROVIDER_SECRETS) is the deployment's and is checked by the gateway; the gateway's own secrets
  // are never a provider key, whatever any list says.
  const gatewaySecrets = Object.entries(parsed.config.providers).flatMap(([name, provider]) =>
    secretRefsOf(provider).flatMap(({ path: field, ref }) => ("env" in ref && isGatewaySecret(ref.env) ? [`providers.${name}.${field.join(".")}.env: ${ref.env} is one of the gateway's own secrets`] : [])),
  );
  if (gatewaySecrets.length > 0) {
    console.error(`switchyard: invalid config ${path}:`);
    for (const issue of gatewaySecrets) console.error(`  - ${issue}`);
    process.exit(1);
  }
  return JSON.stringify(parsed.config);
}
