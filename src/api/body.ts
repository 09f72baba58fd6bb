import type { Context } from "hono";
import type * as z from "zod";
import { formatPath } from "../config/validate";
import { GatewayError, badRequest } from "../lib/errors";
import type { AppEnv } from "../types";
import { byteStream } from "../lib/byte-stream";

/** The largest request body the gateway accepts (base64 images make chat bodies big; this still bounds memory). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

const tooLarge = () =>
  new GatewayError({ status: 413, type: "invalid_request_error", code: "request_too_large", message: `The request body is larger than the gateway's limit of ${MAX_BODY_BYTES} bytes.` });

const notUtf8 = () => badRequest("The request body is not valid UTF-8.", null, "invalid_encoding");

/** Decodes UTF-8 strictly: a body with invalid bytes is refused, never sent on with replacement characters. */
function decodeStrictly(decoder: TextDecoder, bytes?: ArrayBuffer | ArrayBufferView, options?: TextDecoderDecodeOptions): string {
  try {
    return decoder.decode(bytes, options);
  } catch {
    throw notUtf8();
  }
}

async function readLimited(request: Request): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  if (!request.body) return "";
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  // A declared length within the limit bounds the body already (the runtime rejects a body longer than its
  // Content-Length), so the native read does; chunked bodies are counted as they arrive.
  if (declared !== null && declared !== "") return decodeStrictly(decoder, await request.arrayBuffer());
  const reader = byteStream(request.body).getReader();
  let size = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    text += decodeStrictly(decoder, value, { stream: true });
  }
  return text + decodeStrictly(decoder);
}

type Issue = z.core.$ZodIssue;

/**
 * A union's issue points at the union itself ("messages[0].content"); the branch that got furthest says more
 * ("messages[0].content[0].type"), so unions are unwrapped to their deepest issue.
 */
function mostSpecificIssue(issue: Issue): Issue {
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return issue;
  let best: Issue = issue;
  for (const branch of issue.errors) {
    for (const inner of branch) {
      const candidate = mostSpecificIssue({ ...inner, path: [...issue.path, ...inner.path] });
      if (candidate.path.length > best.path.length) best = candidate;
    }
  }
  return best;
}

/** Reads the JSON body, checks its content type and size, and validates it against `schema`. */
export async function readJsonBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.infer<S>> {
  const contentType = c.req.header("content-type");
  if (contentType !== undefined && !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType)) {
    throw new GatewayError({ status: 415, type: "invalid_request_error", code: "unsupported_media_type", message: `The body must be JSON (Content-Type: application/json), not "${contentType}".` });
  }
  const text = await readLimited(c.req.raw);
  if (text.trim() === "") throw badRequest("The request body is empty; send a JSON object.");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("We could not parse the JSON body of your request. (HINT: the body must be a valid JSON object.)", null, "invalid_json");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest("The request body must be a JSON object.", null, "invalid_json");
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = mostSpecificIssue(parsed.error.issues[0]!);
    // An unknown field is named by the field itself, not by the object that holds it.
    const param = formatPath(issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path);
    throw badRequest(param ? `Invalid value for '${param}': ${issue.message}` : issue.message, param || null, "invalid_value");
  }
  return parsed.data;
}

/** Validates a query string against `schema`; a bad parameter is a 400 naming it. */
export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, string>): z.infer<S> {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const param = issue.code === "unrecognized_keys" ? issue.keys[0]! : issue.path.map(String).join(".");
  throw badRequest(`Invalid query parameter '${param}': ${issue.message}`, param, "invalid_value");
}
