import { OpenAIErrorBodySchema } from "../../schema/openai";
import { unreadableErrorMessage } from "../http";
import type { UpstreamErrorInfo } from "../types";

export function parseOpenAIError(status: number, bodyText: string): UpstreamErrorInfo {
  try {
    const parsed = OpenAIErrorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success && parsed.data.error.message) {
      const { message, type, code, param } = parsed.data.error;
      return { message, type: type ?? undefined, code: code === null || code === undefined ? null : String(code), param: param ?? null };
    }
  } catch {
    // not JSON: never passed on
  }
  return { message: unreadableErrorMessage(status) };
}
