import { AwsClient } from "aws4fetch";
import type { ProviderConfig } from "../../config/schema";
import type { UpstreamTarget } from "../types";

/**
 * SigV4 signing (aws4fetch) with the provider's credentials, for every AWS API the gateway calls: Bedrock Runtime
 * and its control plane (service `bedrock`), S3 (service `s3`).
 */

export type BedrockConfig = Extract<ProviderConfig, { type: "bedrock" }>;

export async function awsClientOf(target: UpstreamTarget<BedrockConfig>, service: "bedrock" | "s3"): Promise<AwsClient> {
  const { config } = target;
  return new AwsClient({
    accessKeyId: await target.secret(config.accessKeyId),
    secretAccessKey: await target.secret(config.secretAccessKey),
    ...(config.sessionToken ? { sessionToken: await target.secret(config.sessionToken) } : {}),
    service,
    region: config.region,
    retries: 0,
  });
}

/** A signed JSON request (`body` undefined: a GET) to a Bedrock endpoint. */
export async function signedBedrockRequest(target: UpstreamTarget<BedrockConfig>, url: string, body: unknown, accept = "application/json"): Promise<Request> {
  const client = await awsClientOf(target, "bedrock");
  if (body === undefined) return client.sign(url, { method: "GET", headers: { accept } });
  return client.sign(url, { method: "POST", headers: { "content-type": "application/json", accept }, body: JSON.stringify(body) });
}
