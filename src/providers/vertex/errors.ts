import { parseAnthropicError } from "../anthropic/errors";
import { parseGoogleError } from "../gemini/errors";
import type { UpstreamErrorInfo } from "../types";

/** Vertex answers in Google's error shape; errors from Claude's own service come through in Anthropic's. */
export const parseVertexError = (status: number, bodyText: string): UpstreamErrorInfo => parseGoogleError(status, bodyText) ?? parseAnthropicError(status, bodyText);
