import { z } from "zod";
import { CircuitBreakerSchema, RouteSchema, routeReferenceIssues } from "../routing/schema";

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

export {
  CircuitBreakerSchema,
  RouteSchema,
  TargetSchema,
  targetsOf,
  type CircuitBreakerSettings,
  type Route,
  type Target,
} from "../routing/schema";

export const GatewayConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    providers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, "provider names use letters, digits, _ . -"), ProviderConfigSchema),
    routes: z.record(z.string().min(1), RouteSchema).default({}),
    circuitBreaker: CircuitBreakerSchema.prefault({}).describe("Per-target circuit-breaker thresholds (see docs/routing.md)."),
  })
  .superRefine((doc, ctx) => {
    for (const issue of routeReferenceIssues(doc.routes, doc.providers)) ctx.addIssue({ code: "custom", ...issue });
  });
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
