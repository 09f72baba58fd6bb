/** Gemini gives calls no ids; these are unique per response and the same in streamed and whole answers. */
export const callIdPrefix = (responseId: string | undefined) => `call_${(responseId ?? crypto.randomUUID()).replace(/[^A-Za-z0-9_-]/g, "").slice(0, 24)}`;

/**
 * A call's thought signature has to come back with the call in the next turn (Gemini 3 refuses the turn
 * otherwise), and clients only keep the call's id: so the id carries it, base64url after a marker, within
 * the `[A-Za-z0-9_-]` alphabet both client dialects accept.
 */
export const SIGNATURE_MARKER = "__ts_";

export function callId(prefix: string, index: number, call: { id: string | undefined; signature: string | undefined }): string {
  const id = call.id ?? `${prefix}_${index}`;
  if (!call.signature) return id;
  return `${id}${SIGNATURE_MARKER}${call.signature.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

export function signatureOf(id: string): string | undefined {
  const at = id.indexOf(SIGNATURE_MARKER);
  if (at < 0) return undefined;
  const encoded = id.slice(at + SIGNATURE_MARKER.length).replace(/-/g, "+").replace(/_/g, "/");
  return encoded + "=".repeat((4 - (encoded.length % 4)) % 4);
}

/** Google's documented stand-in for a signature the history lost (calls made by another model, or edited). */
export const SKIP_SIGNATURE = "skip_thought_signature_validator";
export const isGemini3OrLater = (model: string) => /^gemini-[3-9]/.test(model);
