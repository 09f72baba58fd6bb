/**
 * A tool call's `arguments` (a JSON string, as OpenAI carries them) as the object dialects with structured tool
 * input expect (Anthropic `input`, Bedrock `toolUse.input`). Models sometimes emit invalid or empty JSON; the
 * call is still passed on, with empty input, rather than failing the whole conversation.
 */
export function parseToolArguments(text: string): unknown {
  try {
    return text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    return {};
  }
}
