import { AnthropicErrorBodySchema } from "../../schema/anthropic";
import { rawErrorMessage } from "../http";
import type { UpstreamErrorInfo } from "../types";

export function parseAnthropicError(status: number, bodyText: string): UpstreamErrorInfo {
  try {
    const parsed = AnthropicErrorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success && parsed.data.error.message) return { message: parsed.data.error.message, type: parsed.data.error.type ?? undefined, code: parsed.data.error.type ?? null };
  } catch {
    // not JSON: fall through to the raw text
  }
  return { message: rawErrorMessage(status, bodyText) };
}
