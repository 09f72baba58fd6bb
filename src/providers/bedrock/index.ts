import { AwsClient } from "aws4fetch";
import type { ProviderConfig } from "../../config/schema";
import { badRequest } from "../../lib/errors";
import type { ProviderAdapter, UpstreamTarget } from "../types";
import { chatRequestToConverse, parseConverseResponse } from "./chat";
import { parseTitanEmbeddings } from "./embeddings";
import { parseBedrockError } from "./errors";
import { parseConverseStream } from "./stream";
import { SUPPORTS_ALL } from "../../schema/capabilities";

/**
 * Amazon Bedrock through Converse / ConverseStream, SigV4-signed with aws4fetch; embeddings through Titan Text
 * Embeddings (InvokeModel, one input per call).
 */

type BedrockConfig = Extract<ProviderConfig, { type: "bedrock" }>;

/** SigV4 signs for the service name in the credential scope, which is `bedrock` for the runtime endpoint too. */
const SIGNING_SERVICE = "bedrock";

const endpointOf = (config: BedrockConfig) => config.baseURL ?? `https://bedrock-runtime.${config.region}.amazonaws.com`;

/** Model ids hold `:` (and inference-profile ARNs `/`), so the id is one encoded path segment. */
const modelPath = (model: string, action: string) => `/model/${encodeURIComponent(model)}/${action}`;

async function signedRequest(target: UpstreamTarget<BedrockConfig>, path: string, body: unknown, accept: string): Promise<Request> {
  const { config } = target;
  const client = new AwsClient({
    accessKeyId: await target.secret(config.accessKeyId),
    secretAccessKey: await target.secret(config.secretAccessKey),
    ...(config.sessionToken ? { sessionToken: await target.secret(config.sessionToken) } : {}),
    service: SIGNING_SERVICE,
    region: config.region,
    retries: 0,
  });
  return client.sign(`${endpointOf(config)}${path}`, { method: "POST", headers: { "content-type": "application/json", accept }, body: JSON.stringify(body) });
}

export const bedrockAdapter: ProviderAdapter<BedrockConfig> = {
  type: "bedrock",
  supports: () => SUPPORTS_ALL,
  buildChatRequest: (request, target) =>
    request.stream
      ? signedRequest(target, modelPath(target.model, "converse-stream"), chatRequestToConverse(request), "application/vnd.amazon.eventstream")
      : signedRequest(target, modelPath(target.model, "converse"), chatRequestToConverse(request), "application/json"),
  parseChatResponse: parseConverseResponse,
  parseChatStream: parseConverseStream,
  async buildEmbeddingsRequest(request, target) {
    if (!target.model.startsWith("amazon.titan-embed")) {
      throw badRequest(`Bedrock embeddings go through Titan Text Embeddings (amazon.titan-embed-text-v2:0), not ${target.model}.`, "model", "unsupported_model");
    }
    // Titan embeds one text per InvokeModel call.
    return Promise.all(
      request.input.map((inputText) =>
        signedRequest(target, modelPath(target.model, "invoke"), { inputText, normalize: true, ...(request.dimensions ? { dimensions: request.dimensions } : {}) }, "application/json"),
      ),
    );
  },
  parseEmbeddingsResponse: parseTitanEmbeddings,
  parseError: parseBedrockError,
};
