import { BedrockErrorBodySchema } from "../../schema/bedrock";
import { rawErrorMessage } from "../http";
import type { UpstreamErrorInfo } from "../types";

export function parseBedrockError(status: number, bodyText: string, headers?: Headers): UpstreamErrorInfo {
  // x-amzn-errortype: "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"
  const errorType = headers?.get("x-amzn-errortype")?.split(":")[0] || undefined;
  let message: string | undefined;
  try {
    const parsed = BedrockErrorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success) message = parsed.data.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  message ??= rawErrorMessage(status, bodyText);
  return { message: errorType ? `${errorType}: ${message}` : message, code: errorType ?? null };
}
