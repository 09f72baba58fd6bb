import { AnthropicErrorBodySchema } from "../../schema/anthropic";
import { unreadableErrorMessage } from "../http";
import type { UpstreamErrorInfo } from "../types";

export function parseAnthropicError(status: number, bodyText: string): UpstreamErrorInfo {
  try {
    const parsed = AnthropicErrorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success && parsed.data.error.message) return { message: parsed.data.error.message, type: parsed.data.error.type ?? undefined, code: parsed.data.error.type ?? null };
  } catch {
    // not JSON: never passed on
  }
  return { message: unreadableErrorMessage(status) };
}
