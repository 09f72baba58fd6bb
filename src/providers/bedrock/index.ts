import { badRequest } from "../../lib/errors";
import type { ProviderAdapter, UpstreamTarget } from "../types";
import { chatRequestToConverse, parseConverseResponse } from "./chat";
import { parseTitanEmbeddings } from "./embeddings";
import { parseBedrockError } from "./errors";
import { signedBedrockRequest, type BedrockConfig } from "./signing";
import { parseConverseStream } from "./stream";
import { SUPPORTS_ALL } from "../../schema/capabilities";

/**
 * Amazon Bedrock through Converse / ConverseStream, SigV4-signed with aws4fetch; embeddings through Titan Text
 * Embeddings (InvokeModel, one input per call).
 */

const endpointOf = (config: BedrockConfig) => config.baseURL ?? `https://bedrock-runtime.${config.region}.amazonaws.com`;

/**
 * Model ids hold `:` (and ARNs `/`), so the id is one encoded path segment. A custom model served through
 * Provisioned Throughput is called by its provisioned model's ARN (the provider's `provisionedModels`).
 */
function modelPath(target: UpstreamTarget<BedrockConfig>, action: string): string {
  const provisioned = target.config.provisionedModels;
  const model = provisioned && Object.hasOwn(provisioned, target.model) ? provisioned[target.model]! : target.model;
  return `/model/${encodeURIComponent(model)}/${action}`;
}

/** SigV4 signs for the service name in the credential scope, which is `bedrock` for the runtime endpoint too. */
const signedRequest = (target: UpstreamTarget<BedrockConfig>, path: string, body: unknown, accept: string) => signedBedrockRequest(target, `${endpointOf(target.config)}${path}`, body, accept);

export const bedrockAdapter: ProviderAdapter<BedrockConfig> = {
  type: "bedrock",
  supports: () => SUPPORTS_ALL,
  buildChatRequest: (request, target) =>
    request.stream
      ? signedRequest(target, modelPath(target, "converse-stream"), chatRequestToConverse(request, target.model), "application/vnd.amazon.eventstream")
      : signedRequest(target, modelPath(target, "converse"), chatRequestToConverse(request, target.model), "application/json"),
  parseChatResponse: parseConverseResponse,
  parseChatStream: parseConverseStream,
  async buildEmbeddingsRequest(request, target) {
    if (!target.model.startsWith("amazon.titan-embed")) {
      throw badRequest(`Bedrock embeddings go through Titan Text Embeddings (amazon.titan-embed-text-v2:0), not ${target.model}.`, "model", "unsupported_model");
    }
    // Titan embeds one text per InvokeModel call.
    return Promise.all(
      request.input.map((inputText) =>
        signedRequest(target, modelPath(target, "invoke"), { inputText, normalize: true, ...(request.dimensions ? { dimensions: request.dimensions } : {}) }, "application/json"),
      ),
    );
  },
  parseEmbeddingsResponse: parseTitanEmbeddings,
  parseError: parseBedrockError,
};
