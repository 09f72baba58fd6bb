import { BedrockErrorBodySchema } from "../../schema/bedrock";
import { unreadableErrorMessage } from "../http";
import type { UpstreamErrorInfo } from "../types";

export function parseBedrockError(status: number, bodyText: string, headers?: Headers): UpstreamErrorInfo {
  // x-amzn-errortype: "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"
  const errorType = headers?.get("x-amzn-errortype")?.split(":")[0] || undefined;
  let message: string | undefined;
  try {
    const parsed = BedrockErrorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success) message = parsed.data.message;
  } catch {
    // not JSON: never passed on
  }
  message ??= unreadableErrorMessage(status);
  return { message: errorType ? `${errorType}: ${message}` : message, code: errorType ?? null };
}
