import { z } from "zod";
import { PriceSchema } from "../usage/pricing";

/** A credential is never written in the document: it names where the gateway finds it at request time. */
export const SecretRefSchema = z
  .union([
    z.strictObject({ env: z.string().min(1).describe("Name of a Worker secret / environment variable.") }),
    z.strictObject({ credential: z.string().min(1).describe("Name of a credential stored through the admin API (encrypted).") }),
  ])
  .describe("Where a secret comes from; never the secret itself.");
export type SecretRef = z.infer<typeof SecretRefSchema>;

const baseURL = z.url({ protocol: /^https?$/ }).describe("The provider's base URL, following its own SDK's convention.");

export const OpenAIProviderSchema = z.strictObject({
  type: z.literal("openai"),
  baseURL: baseURL.default("https://api.openai.com/v1"),
  apiKey: SecretRefSchema,
  organization: z.string().optional(),
  project: z.string().optional(),
  models: z.array(z.string()).optional().describe("Models listed by GET /v1/models for this provider."),
});

export const AnthropicProviderSchema = z.strictObject({
  type: z.literal("anthropic"),
  baseURL: baseURL.default("https://api.anthropic.com"),
  apiKey: SecretRefSchema,
  version: z.string().default("2023-06-01").describe("The anthropic-version header."),
  models: z.array(z.string()).optional(),
});

export const ProviderConfigSchema = z.discriminatedUnion("type", [OpenAIProviderSchema, AnthropicProviderSchema]);
export type ProviderConfig = z.infer<typeof ProviderConfigSchema>;
export type ProviderType = ProviderConfig["type"];

export const TargetSchema = z.strictObject({
  provider: z.string().min(1).describe("A key of `providers`."),
  model: z.string().min(1).describe("The provider's own model name."),
});
export type Target = z.infer<typeof TargetSchema>;

export const RouteSchema = z.discriminatedUnion("strategy", [
  z.strictObject({ strategy: z.literal("single"), target: TargetSchema }),
]);
export type Route = z.infer<typeof RouteSchema>;

export const GatewayConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    providers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, "provider names use letters, digits, _ . -"), ProviderConfigSchema),
    routes: z.record(z.string().min(1), RouteSchema).default({}),
    pricing: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]+\/.+$/, "pricing keys are \"<provider name>/<model>\""), PriceSchema)
      .optional()
      .describe("Price overrides (USD per 1M tokens) keyed by provider name and model; they win over the built-in table."),
    logging: z
      .strictObject({ bodies: z.boolean().default(false).describe("Store prompts and completions (capped) with usage events.") })
      .optional(),
  })
  .superRefine((doc, ctx) => {
    for (const [name, route] of Object.entries(doc.routes)) {
      for (const [index, target] of targetsOf(route).entries()) {
        if (!(target.provider in doc.providers)) {
          ctx.addIssue({
            code: "custom",
            path: ["routes", name, ...(route.strategy === "single" ? ["target"] : ["targets", index]), "provider"],
            message: `unknown provider "${target.provider}"`,
          });
        }
      }
    }
  });
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;

export function targetsOf(route: Route): Target[] {
  switch (route.strategy) {
    case "single":
      return [route.target];
  }
}
