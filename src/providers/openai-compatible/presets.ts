import * as z from "zod";
import { SUPPORTS_ALL, SupportsSchema } from "../../schema/capabilities";

/**
 * The OpenAI-compatible family as data. Each row is one provider that speaks OpenAI's Chat Completions wire
 * format: where it lives, how it authenticates, what it offers, and the documented ways it differs from OpenAI
 * (quirks). Adding a provider is adding a row here; no code changes. A workspace can also describe a server that
 * has no row by giving `baseURL` and, when needed, `quirks` in its own config.
 */

export const AuthStyleSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("bearer") }).describe("`Authorization: Bearer <apiKey>`"),
  z.strictObject({ kind: z.literal("header"), name: z.string().min(1) }).describe("The key sent as-is in the named header."),
  z.strictObject({ kind: z.literal("none") }).describe("No credentials (local servers); an apiKey, if configured, is still sent as bearer."),
]);
export type AuthStyle = z.infer<typeof AuthStyleSchema>;

const quirkFields = {
  maxTokensField: z.enum(["max_tokens", "max_completion_tokens"]).describe("Which field carries the completion token limit."),
  streamUsage: z
    .enum(["stream_options", "final_chunk", "unavailable"])
    .describe(
      "How streamed usage arrives: asked for with `stream_options.include_usage`, sent unasked in the last chunk (stream_options is then not sent), or not at all.",
    ),
  dropFields: z.array(z.string()).describe("Top-level request fields the server rejects; dropped before sending."),
  renameFields: z.record(z.string(), z.string()).describe("Top-level request fields the server names differently (`seed` → `random_seed`)."),
  dropMessageName: z.boolean().describe("The server rejects `messages[].name`."),
};

export const QuirksSchema = z.strictObject({
  maxTokensField: quirkFields.maxTokensField.default("max_tokens"),
  streamUsage: quirkFields.streamUsage.default("stream_options"),
  dropFields: quirkFields.dropFields.default([]),
  renameFields: quirkFields.renameFields.default({}),
  dropMessageName: quirkFields.dropMessageName.default(false),
});
/** A workspace's own quirks in its config: each field given replaces the preset's. */
export const QuirksOverrideSchema = z.strictObject(quirkFields).partial();
export type Quirks = z.infer<typeof QuirksSchema>;
export type QuirksOverride = z.infer<typeof QuirksOverrideSchema>;

export const PresetSchema = z.strictObject({
  label: z.string(),
  // Adapters append paths to base URLs as they are (the config schema strips a workspace's trailing slash).
  baseURL: z.url().refine((url) => !url.endsWith("/"), "a preset's baseURL has no trailing slash"),
  auth: AuthStyleSchema,
  /** The server refuses requests without a key (local servers do not). */
  requiresKey: z.boolean(),
  supports: SupportsSchema,
  quirks: QuirksSchema,
  docs: z.url().describe("Where the quirks were read."),
});
export type Preset = z.infer<typeof PresetSchema>;

const bearer = { kind: "bearer" } as const;
const none = { kind: "none" } as const;
const all = SUPPORTS_ALL;
/** Fields only OpenAI itself understands; most compatible servers reject or ignore them. */
const OPENAI_ONLY = ["store", "metadata", "service_tier", "prediction", "modalities", "audio"];

/** The table. Quirks were read from each provider's own OpenAI-compatibility page (see `docs`) on 2026-11-27. */
const PRESET_ROWS = {
  groq: {
    label: "Groq",
    baseURL: "https://api.groq.com/openai/v1",
    auth: bearer,
    requiresKey: true,
    supports: { ...all, embeddings: false },
    quirks: { maxTokensField: "max_completion_tokens", dropFields: [...OPENAI_ONLY, "logprobs", "logit_bias", "top_logprobs"], dropMessageName: true },
    docs: "https://console.groq.com/docs/openai",
  },
  together: {
    label: "Together AI",
    baseURL: "https://api.together.xyz/v1",
    auth: bearer,
    requiresKey: true,
    supports: all,
    quirks: { streamUsage: "final_chunk", dropFields: [...OPENAI_ONLY, "parallel_tool_calls", "reasoning_effort"] },
    docs: "https://docs.together.ai/docs/openai-api-compatibility",
  },
  fireworks: {
    label: "Fireworks AI",
    baseURL: "https://api.fireworks.ai/inference/v1",
    auth: bearer,
    requiresKey: true,
    supports: all,
    quirks: { streamUsage: "final_chunk", dropFields: [...OPENAI_ONLY, "parallel_tool_calls"] },
    docs: "https://docs.fireworks.ai/tools-sdks/openai-compatibility",
  },
  mistral: {
    label: "Mistral AI",
    baseURL: "https://api.mistral.ai/v1",
    auth: bearer,
    requiresKey: true,
    supports: all,
    // Mistral answers 422 to unknown fields, names the seed `random_seed` and always sends usage in the last chunk.
    quirks: { streamUsage: "final_chunk", renameFields: { seed: "random_seed" }, dropFields: [...OPENAI_ONLY, "user", "reasoning_effort", "logit_bias"], dropMessageName: true },
    docs: "https://docs.mistral.ai/api/",
  },
  deepseek: {
    label: "DeepSeek",
    baseURL: "https://api.deepseek.com/v1",
    auth: bearer,
    requiresKey: true,
    supports: { ...all, embeddings: false, vision: false },
    quirks: { dropFields: [...OPENAI_ONLY, "parallel_tool_calls", "seed", "reasoning_effort"] },
    docs: "https://api-docs.deepseek.com/api/create-chat-completion",
  },
  xai: {
    label: "xAI",
    baseURL: "https://api.x.ai/v1",
    auth: bearer,
    requiresKey: true,
    supports: { ...all, embeddings: false },
    quirks: { maxTokensField: "max_completion_tokens", dropFields: ["store", "service_tier", "prediction", "modalities", "audio"] },
    docs: "https://docs.x.ai/docs/guides/migration",
  },
  perplexity: {
    label: "Perplexity",
    baseURL: "https://api.perplexity.ai",
    auth: bearer,
    requiresKey: true,
    supports: { chat: true, stream: true, tools: false, embeddings: false, vision: true },
    // No function calling (requests with tools go to another target, or get a 400); usage comes with the last chunk.
    quirks: {
      streamUsage: "final_chunk",
      dropFields: [...OPENAI_ONLY, "tool_choice", "parallel_tool_calls", "seed", "stop", "logit_bias", "user", "reasoning_effort"],
    },
    docs: "https://docs.perplexity.ai/guides/chat-completions-guide",
  },
  openrouter: {
    label: "OpenRouter",
    baseURL: "https://openrouter.ai/api/v1",
    auth: bearer,
    requiresKey: true,
    supports: { ...all, embeddings: false },
    quirks: { dropFields: ["store", "service_tier", "prediction", "modalities", "audio"] },
    docs: "https://openrouter.ai/docs/api-reference/parameters",
  },
  cerebras: {
    label: "Cerebras",
    baseURL: "https://api.cerebras.ai/v1",
    auth: bearer,
    requiresKey: true,
    supports: { ...all, embeddings: false, vision: false },
    // These fields are answered with a 400.
    quirks: { maxTokensField: "max_completion_tokens", dropFields: [...OPENAI_ONLY, "frequency_penalty", "presence_penalty", "logit_bias", "parallel_tool_calls"] },
    docs: "https://inference-docs.cerebras.ai/resources/openai",
  },
  deepinfra: {
    label: "DeepInfra",
    baseURL: "https://api.deepinfra.com/v1/openai",
    auth: bearer,
    requiresKey: true,
    supports: all,
    quirks: { dropFields: [...OPENAI_ONLY, "parallel_tool_calls"] },
    docs: "https://deepinfra.com/docs/openai_api",
  },
  ollama: {
    label: "Ollama (local)",
    baseURL: "http://localhost:11434/v1",
    auth: none,
    requiresKey: false,
    supports: all,
    quirks: { dropFields: [...OPENAI_ONLY, "parallel_tool_calls", "logit_bias", "user", "reasoning_effort"] },
    docs: "https://github.com/ollama/ollama/blob/main/docs/openai.md",
  },
  vllm: {
    label: "vLLM (self-hosted)",
    baseURL: "http://localhost:8000/v1",
    auth: none,
    requiresKey: false,
    supports: all,
    quirks: { maxTokensField: "max_completion_tokens", dropFields: OPENAI_ONLY },
    docs: "https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html",
  },
  lmstudio: {
    label: "LM Studio (local)",
    baseURL: "http://localhost:1234/v1",
    auth: none,
    requiresKey: false,
    supports: all,
    quirks: { streamUsage: "final_chunk", dropFields: [...OPENAI_ONLY, "parallel_tool_calls", "user", "reasoning_effort"] },
    docs: "https://lmstudio.ai/docs/app/api/endpoints/openai",
  },
  sambanova: {
    label: "SambaNova",
    baseURL: "https://api.sambanova.ai/v1",
    auth: bearer,
    requiresKey: true,
    supports: { ...all, embeddings: false },
    quirks: { dropFields: [...OPENAI_ONLY, "logit_bias", "seed", "parallel_tool_calls"] },
    docs: "https://docs.sambanova.ai/cloud/docs/capabilities/openai-compatibility",
  },
} satisfies Record<string, z.input<typeof PresetSchema>>;

export type PresetName = keyof typeof PRESET_ROWS;
export const PRESET_NAMES = Object.keys(PRESET_ROWS) as [PresetName, ...PresetName[]];

/** The rows, parsed once (defaults filled in), so a malformed row fails at load rather than on a request. */
export const PRESETS: Readonly<Record<PresetName, Preset>> = Object.fromEntries(
  Object.entries(PRESET_ROWS).map(([name, row]) => [name, PresetSchema.parse(row)]),
) as Record<PresetName, Preset>;

export const DEFAULT_QUIRKS: Quirks = QuirksSchema.parse({});
