import * as z from "zod";
import { PRESETS, PRESET_NAMES, QuirksOverrideSchema } from "../providers/openai-compatible/presets";
import { SupportsSchema } from "../schema/capabilities";
import { WorkspaceLimitsSchema } from "../policy/limit-schemas";
import { CacheOptionsSchema, CoalesceOptionsSchema } from "../cache/options";
import { CircuitBreakerSchema, RouteSchema, routeReferenceIssues } from "../routing/schema";
import { PriceSchema } from "../usage/pricing";
import { FilesOptionsSchema } from "../files/options";
import { GuardrailsSchema, guardrailReferenceIssues } from "../guardrails/schema";

/** The name of a credential stored through the admin API. */
export const CredentialNameSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "credential names are 1-64 letters, digits, _ . -");

/** A credential is never written in the document: it names where the gateway finds it at request time. */
export const SecretRefSchema = z
  .union([
    z.strictObject({
      env: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "a Worker secret's name: letters, digits and _")
        .describe("Name of a Worker secret / environment variable: one of PROVIDER_SECRETS (and, for workspaces other than `default`, granted by WORKSPACE_ENV_SECRETS)."),
    }),
    z.strictObject({ credential: CredentialNameSchema.describe("Name of a credential stored through the admin API (encrypted).") }),
  ])
  .describe("Where a secret comes from; never the secret itself.");
export type SecretRef = z.infer<typeof SecretRefSchema>;

/** An upstream URL: the gateway adds paths and queries itself, so it carries neither a query, a fragment nor credentials. */
const upstreamURL = z
  .url({ protocol: /^https?$/ })
  .refine((url) => !url.includes("?") && !url.includes("#"), "must not contain `?` or `#`: the gateway builds paths and queries itself")
  .refine((url) => !/^[a-z]+:\/\/[^/]*@/i.test(url), "must not carry credentials (user:password@)");

// Normalised once here (no trailing slash), so adapters append their paths as they are.
const baseURL = upstreamURL.overwrite((url) => url.replace(/\/+$/, "")).describe("The provider's base URL, following its own SDK's convention.");

/** Static headers a compatible server needs; a value may be a secret reference. */
const HeaderNameSchema = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "a header name (letters, digits and !#$%&'*+.^_`|~-)")
  .refine((name) => !["host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"].includes(name.toLowerCase()), "the gateway sets this header itself");
const HeaderValueSchema = z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, "header values have no control characters (CR, LF, NUL)");

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

export const GeminiProviderSchema = z.strictObject({
  type: z.literal("gemini"),
  baseURL: baseURL.default("https://generativelanguage.googleapis.com"),
  apiKey: SecretRefSchema.describe("A Gemini API key (sent as x-goog-api-key)."),
  apiVersion: z.string().default("v1beta").describe("The path segment before /models."),
  models: z.array(z.string()).optional(),
});

/** A Cloud Storage or S3 bucket name (without gs:// or s3://): both allow lowercase letters, digits, dots and dashes. */
const bucketName = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, "a bucket name (lowercase letters, digits, . _ -; without gs:// or s3://)");

const AWS_ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:[A-Za-z0-9_./:+=@-]+$/;

export const VertexProviderSchema = z.strictObject({
  type: z.literal("vertex"),
  project: z.string().min(1).describe("The Google Cloud project id."),
  location: z
    .string()
    .regex(/^[a-z0-9-]{1,63}$/, "a Vertex AI location such as us-central1 or global")
    .describe("The Vertex AI location, e.g. us-central1, europe-west4 or global."),
  serviceAccount: SecretRefSchema.describe("The service account's JSON key (the whole file's contents)."),
  tokenURL: upstreamURL.optional().describe("Where the signed JWT is exchanged for an access token (default: the key's token_uri)."),
  baseURL: baseURL.optional().describe("Overrides https://{location}-aiplatform.googleapis.com (tests, private endpoints)."),
  batchBucket: bucketName
    .optional()
    .describe("A Cloud Storage bucket the service account may write: native batches put their input and read their output there."),
  storageURL: baseURL.default("https://storage.googleapis.com").describe("The Cloud Storage JSON API origin (tests, private endpoints)."),
  tuningBucket: bucketName
    .optional()
    .describe("A Cloud Storage bucket the service account may write: fine-tuning jobs put their converted datasets there (default: batchBucket)."),
  models: z.array(z.string()).optional(),
});

export const BedrockProviderSchema = z.strictObject({
  type: z.literal("bedrock"),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "an AWS region such as us-east-1"),
  accessKeyId: SecretRefSchema,
  secretAccessKey: SecretRefSchema,
  sessionToken: SecretRefSchema.optional().describe("For temporary (STS) credentials."),
  baseURL: baseURL.optional().describe("Overrides https://bedrock-runtime.<region>.amazonaws.com (VPC endpoints, tests)."),
  controlURL: baseURL.optional().describe("Overrides https://bedrock.<region>.amazonaws.com, the control plane fine-tuning jobs run on (VPC endpoints, tests)."),
  tuningBucket: bucketName.optional().describe("An S3 bucket for fine-tuning: converted datasets are put there and Bedrock writes its output there."),
  tuningRoleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    .optional()
    .describe("The IAM service role Bedrock assumes for a customization job: it must read and write tuningBucket."),
  s3URL: baseURL
    .optional()
    .describe("Overrides https://<bucket>.s3.<region>.amazonaws.com with path-style addressing (<s3URL>/<bucket>/<key>: S3-compatible endpoints, tests)."),
  provisionedModels: z
    .record(z.string().regex(AWS_ARN, "a custom model ARN"), z.string().regex(AWS_ARN, "a provisioned model ARN"))
    .optional()
    .describe("Custom models served through Provisioned Throughput: <custom model ARN> → <provisioned model ARN>; calls to bedrock/<custom model ARN> go to the provisioned one."),
  models: z.array(z.string()).optional(),
});

export const AzureProviderSchema = z.strictObject({
  type: z.literal("azure"),
  baseURL: baseURL.describe("The resource origin: https://<resource>.openai.azure.com"),
  apiKey: SecretRefSchema.describe("Sent as the api-key header."),
  apiVersion: z.string().min(1).default("2024-10-21").describe("The api-version query parameter of the deployments API."),
  apiStyle: z
    .enum(["deployments", "v1"])
    .default("deployments")
    .describe("`deployments`: the model names a deployment (/openai/deployments/{model}/…?api-version=); `v1`: the GA /openai/v1 API, model in the body."),
  tunedDeployments: z
    .strictObject({
      subscriptionId: z.string().regex(/^[0-9a-fA-F-]{36}$/, "an Azure subscription id (a GUID)"),
      resourceGroup: z.string().regex(/^[-\w._()]{1,90}$/, "a resource group name"),
      resourceName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{1,62}$/, "the Azure OpenAI resource (account) name"),
      tenantId: z.string().regex(/^[0-9a-fA-F-]{36}$/, "a Microsoft Entra tenant id (a GUID)"),
      clientId: z.string().regex(/^[0-9a-fA-F-]{36}$/, "the service principal's application (client) id"),
      sku: z.enum(["Standard", "GlobalStandard", "Developer"]).default("Standard").describe("The deployment type of tuned models (Developer: no hosting fee, no SLA)."),
      capacity: z.number().int().min(1).max(1000).default(1).describe("Capacity units of each deployment."),
    })
    .optional()
    .describe("Deploy succeeded fine-tunes through Azure Resource Manager, so they are callable at once (needs clientSecret; without it, deploy them yourself)."),
  clientSecret: SecretRefSchema.optional().describe("The tunedDeployments service principal's client secret (its role: Cognitive Services Contributor on the resource)."),
  managementURL: baseURL.default("https://management.azure.com").describe("The Azure Resource Manager origin (sovereign clouds, tests)."),
  loginURL: baseURL.default("https://login.microsoftonline.com").describe("The Microsoft Entra ID origin tokens for Resource Manager come from (sovereign clouds, tests)."),
  models: z.array(z.string()).optional(),
});

export const OpenAICompatibleProviderSchema = z
  .strictObject({
    type: z.literal("openai-compatible"),
    preset: z.enum(PRESET_NAMES).optional().describe("A known provider (docs/providers.md): base URL, auth and quirks come from its row."),
    baseURL: baseURL.optional().describe("Required without a preset; overrides the preset's."),
    apiKey: SecretRefSchema.optional().describe("Optional for local servers (Ollama, vLLM, LM Studio)."),
    quirks: QuirksOverrideSchema.optional().describe("Overrides the preset's quirks, or describes a server without a preset."),
    supports: SupportsSchema.partial().optional().describe("Narrows what the preset (or a server without one) serves: requests needing more go to another target or get a 400."),
    headers: z
      .record(HeaderNameSchema, z.union([HeaderValueSchema, SecretRefSchema]))
      .optional()
      .describe("Extra headers (e.g. OpenRouter's HTTP-Referer); a value may be a secret reference ({ env } or { credential })."),
    models: z.array(z.string()).optional(),
  })
  .superRefine((provider, ctx) => {
    if (!provider.preset && !provider.baseURL) ctx.addIssue({ code: "custom", path: ["baseURL"], message: "baseURL is required without a preset" });
    if (provider.preset && PRESETS[provider.preset].requiresKey && !provider.apiKey) {
      ctx.addIssue({ code: "custom", path: ["apiKey"], message: `${PRESETS[provider.preset].label} needs an apiKey` });
    }
  });

export const ProviderConfigSchema = z.discriminatedUnion("type", [
  OpenAIProviderSchema,
  AnthropicProviderSchema,
  GeminiProviderSchema,
  VertexProviderSchema,
  BedrockProviderSchema,
  AzureProviderSchema,
  OpenAICompatibleProviderSchema,
]);
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
    limits: WorkspaceLimitsSchema.optional(),
    cache: CacheOptionsSchema.optional().describe("The workspace's default cache: direct `provider/model` requests and routes without their own `cache`."),
    coalesce: CoalesceOptionsSchema.optional().describe("The workspace's default coalescing (direct requests and routes without their own `coalesce`)."),
    circuitBreaker: CircuitBreakerSchema.prefault({}).describe("Per-target circuit-breaker thresholds (see docs/routing.md)."),
    pricing: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]+\/.+$/, "pricing keys are \"<provider name>/<model>\""), PriceSchema)
      .optional()
      .describe("Price overrides (USD per 1M tokens) keyed by provider name and model; they win over the built-in table."),
    files: FilesOptionsSchema.optional(),
    responses: z
      .strictObject({
        retentionDays: z
          .number()
          .int()
          .min(0)
          .max(400)
          .default(30)
          .describe("How long stored responses (`store`, true unless a request says false) are kept, in days; 0 stores none."),
      })
      .optional()
      .describe("The Responses API (/v1/responses): stored responses and their retention (docs/responses.md)."),
    logging: z
      .strictObject({ bodies: z.boolean().default(false).describe("Store prompts and completions (capped) with usage events.") })
      .optional(),
    guardrails: GuardrailsSchema.optional(),
  })
  .superRefine((doc, ctx) => {
    for (const issue of routeReferenceIssues(doc.routes, doc.providers)) ctx.addIssue({ code: "custom", ...issue });
    if (doc.guardrails) for (const issue of guardrailReferenceIssues(doc.guardrails, new Set(Object.keys(doc.routes)))) ctx.addIssue({ code: "custom", ...issue });
  });
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
