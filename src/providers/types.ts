import type { ProviderConfig, SecretRef } from "../config/schema";
import type { Supports } from "../schema/capabilities";
import type { ChatRequest, ChatResult, EmbeddingsRequest, EmbeddingsResult, StreamEvent } from "../schema/internal";

/** What an adapter knows about the target it is asked to call. */
export type UpstreamTarget<C extends ProviderConfig = ProviderConfig> = {
  /** The provider's name in the config document (e.g. "openai"). */
  providerName: string;
  config: C;
  /** The provider's own model name. */
  model: string;
  /** Resolves a credential reference; throws a GatewayError naming the variable when it is missing. */
  secret: (ref: SecretRef) => Promise<string>;
  /** The fetch used for side calls an adapter's auth needs (token exchanges); never for the main call. */
  fetch: typeof fetch;
  /** Marks a value derived from a secret (an access token, a private key) so no error message repeats it. */
  sensitive: (value: string) => void;
};

/** A provider's error, as the gateway passes it on. */
export type UpstreamErrorInfo = { message: string; type?: string; code?: string | null; param?: string | null };

/**
 * A provider adapter: pure translation between the internal form and one provider's wire format.
 * It builds requests and reads responses; it never routes, retries, caches or counts.
 */
export interface ProviderAdapter<C extends ProviderConfig = ProviderConfig> {
  readonly type: C["type"];
  /** What a provider with this config can serve; planning sends a request only to targets that have all it needs. */
  supports(config: C): Supports;

  /** The upstream request for a chat call. `request.stream` says whether to ask for a stream (with usage). */
  buildChatRequest(request: ChatRequest, target: UpstreamTarget<C>): Promise<Request>;
  /** A successful non-streamed response body, parsed as JSON. */
  parseChatResponse(body: unknown, target: UpstreamTarget<C>): ChatResult;
  /** A successful streamed response body, decoded into internal events as bytes arrive. */
  parseChatStream(body: ReadableStream<Uint8Array>, target: UpstreamTarget<C>): ReadableStream<StreamEvent>;

  /**
   * The upstream request for embeddings; an array when the provider embeds one input per call (Bedrock Titan):
   * the calls are made concurrently and `parseEmbeddingsResponse` then gets their bodies as an array, in order.
   */
  buildEmbeddingsRequest?(request: EmbeddingsRequest, target: UpstreamTarget<C>): Promise<Request | Request[]>;
  parseEmbeddingsResponse?(body: unknown, target: UpstreamTarget<C>): EmbeddingsResult;

  /** Reads the provider's error body (text, maybe not JSON) and headers into a message. */
  parseError(status: number, bodyText: string, headers: Headers): UpstreamErrorInfo;
}
