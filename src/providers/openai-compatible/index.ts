import type { ProviderConfig } from "../../config/schema";
import { SUPPORTS_ALL, type Supports } from "../../schema/capabilities";
import type { ChatRequest } from "../../schema/internal";
import { jsonRequest } from "../http";
import { chatRequestToOpenAI, parseOpenAIChatResponse } from "../openai/chat";
import { embeddingsRequestToOpenAI, parseOpenAIEmbeddingsResponse } from "../openai/embeddings";
import { parseOpenAIError } from "../openai/errors";
import { parseOpenAIChatStream } from "../openai/stream";
import type { ProviderAdapter, UpstreamTarget } from "../types";
import { DEFAULT_QUIRKS, PRESETS, type AuthStyle, type Quirks } from "./presets";

/**
 * Every OpenAI-compatible provider through one adapter: what differs between them (base URL, auth, quirks,
 * capabilities) is data, from the preset table (./presets.ts) and the workspace's own config, never code here.
 */

type CompatibleConfig = Extract<ProviderConfig, { type: "openai-compatible" }>;

export type CompatibleProfile = { label: string; baseURL: string; auth: AuthStyle; quirks: Quirks; supports: Supports };

/** The preset's row with the config's overrides on top (the config schema guarantees a base URL one way or the other). */
export function profileOf(config: CompatibleConfig): CompatibleProfile {
  const preset = config.preset ? PRESETS[config.preset] : undefined;
  return {
    label: preset?.label ?? "OpenAI-compatible server",
    baseURL: config.baseURL ?? preset?.baseURL ?? "",
    auth: preset?.auth ?? { kind: "bearer" },
    quirks: { ...DEFAULT_QUIRKS, ...preset?.quirks, ...config.quirks },
    supports: { ...(preset?.supports ?? SUPPORTS_ALL), ...config.supports },
  };
}

async function headersOf(target: UpstreamTarget<CompatibleConfig>, auth: AuthStyle): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(target.config.headers ?? {})) headers[name] = typeof value === "string" ? value : await target.secret(value);
  if (!target.config.apiKey) return headers;
  const key = await target.secret(target.config.apiKey);
  if (auth.kind === "header") headers[auth.name.toLowerCase()] = key;
  else headers.authorization = `Bearer ${key}`;
  return headers;
}

/** OpenAI's body with the server's quirks applied: fields dropped, renamed, and streamed usage asked for its way. */
export function chatBodyFor(request: ChatRequest, model: string, quirks: Quirks): Record<string, unknown> {
  const body = chatRequestToOpenAI(request, model, {
    maxTokensField: quirks.maxTokensField,
    streamUsage: quirks.streamUsage === "stream_options",
    dropFields: quirks.dropFields,
  });
  for (const [from, to] of Object.entries(quirks.renameFields)) {
    if (from in body) {
      body[to] = body[from];
      delete body[from];
    }
  }
  if (quirks.dropMessageName && Array.isArray(body.messages)) {
    body.messages = body.messages.map((message: Record<string, unknown>) => {
      const { name: _name, ...rest } = message;
      return rest;
    });
  }
  return body;
}

export const openAICompatibleAdapter: ProviderAdapter<CompatibleConfig> = {
  type: "openai-compatible",
  // Each preset narrows what the family serves and a workspace's `supports` overrides it field by field; planning reads this.
  supports: (config) => profileOf(config).supports,
  async buildChatRequest(request, target) {
    const profile = profileOf(target.config);
    return jsonRequest(`${profile.baseURL}/chat/completions`, await headersOf(target, profile.auth), chatBodyFor(request, target.model, profile.quirks));
  },
  parseChatResponse: (body, target) => parseOpenAIChatResponse(body, target.providerName),
  parseChatStream: (body, target) => parseOpenAIChatStream(body, target.providerName),
  async buildEmbeddingsRequest(request, target) {
    const profile = profileOf(target.config);
    const body = embeddingsRequestToOpenAI(request, target.model, { sendUser: false });
    return jsonRequest(`${profile.baseURL}/embeddings`, await headersOf(target, profile.auth), body);
  },
  parseEmbeddingsResponse: (body, target) => parseOpenAIEmbeddingsResponse(body, target.providerName),
  parseError: parseOpenAIError,
};
