import { GoogleErrorBodySchema } from "../../schema/gemini";
import { unreadableErrorMessage } from "../http";
import type { UpstreamErrorInfo } from "../types";

const ERROR_TYPES: Record<string, string> = {
  INVALID_ARGUMENT: "invalid_request_error",
  FAILED_PRECONDITION: "invalid_request_error",
  OUT_OF_RANGE: "invalid_request_error",
  UNAUTHENTICATED: "authentication_error",
  PERMISSION_DENIED: "permission_error",
  NOT_FOUND: "not_found_error",
  RESOURCE_EXHAUSTED: "rate_limit_error",
};

/** Google's error body (`{error:{code,message,status}}`, sometimes wrapped in an array) → message and type. */
export function parseGoogleError(status: number, bodyText: string): UpstreamErrorInfo | undefined {
  try {
    const json: unknown = JSON.parse(bodyText);
    const parsed = GoogleErrorBodySchema.safeParse(Array.isArray(json) ? json[0] : json);
    if (parsed.success && parsed.data.error.message) {
      const googleStatus = parsed.data.error.status;
      return { message: parsed.data.error.message, ...(googleStatus && ERROR_TYPES[googleStatus] ? { type: ERROR_TYPES[googleStatus] } : {}), code: googleStatus ?? null };
    }
  } catch {
    // not JSON: the caller shows the status only
  }
  return undefined;
}

export const parseGeminiError = (status: number, bodyText: string): UpstreamErrorInfo =>
  parseGoogleError(status, bodyText) ?? { message: unreadableErrorMessage(status) };
