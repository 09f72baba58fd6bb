import { Hono } from "hono";
import { chat, embeddings, openAIError, type ChatBody, type SimulatorContext } from "./openai";

/**
 * OpenAI-compatible servers that are not OpenAI, under `/compat/<flavor>/v1/...`:
 *   open    accepts OpenAI's fields and stream_options (Groq, xAI, vLLM-like), bearer key required
 *   strict  Mistral-like: 422 on any field outside its own list (stream_options, seed, max_completion_tokens,
 *           messages[].name, ...), `random_seed` instead of `seed`, usage always on the last stream chunk
 *   local   Ollama-like: no key needed, no auth header looked at
 */

const STRICT_FIELDS = new Set([
  "model", "messages", "temperature", "top_p", "max_tokens", "stream", "stop", "random_seed", "response_format", "tools", "tool_choice",
  "presence_penalty", "frequency_penalty", "n", "parallel_tool_calls", "safe_prompt", "prediction",
]);
const STRICT_MESSAGE_FIELDS = new Set(["role", "content", "tool_calls", "tool_call_id", "prefix"]);

/** Mistral's validation error body (FastAPI-style detail list), which is not OpenAI's error shape. */
const extraForbidden = (location: (string | number)[]) =>
  new Response(JSON.stringify({ object: "error", message: { detail: [{ type: "extra_forbidden", loc: ["body", ...location], msg: "Extra inputs are not permitted" }] }, type: "invalid_request_error", param: null, code: null }), {
    status: 422,
    headers: { "content-type": "application/json" },
  });

function strictViolation(body: Record<string, unknown>): Response | undefined {
  for (const field of Object.keys(body)) if (!STRICT_FIELDS.has(field)) return extraForbidden([field]);
  const messages = Array.isArray(body.messages) ? (body.messages as Record<string, unknown>[]) : [];
  for (const [index, message] of messages.entries()) for (const field of Object.keys(message)) if (!STRICT_MESSAGE_FIELDS.has(field)) return extraForbidden(["messages", index, field]);
  return undefined;
}

export function compatibleSimulator() {
  const app = new Hono<{ Bindings: SimulatorContext }>();
  app.use("/:flavor/*", async (c, next) => {
    const flavor = c.req.param("flavor");
    if (!["open", "strict", "local"].includes(flavor)) return openAIError(404, `no such flavor ${flavor}`);
    if (flavor !== "local") {
      const auth = c.req.header("authorization") ?? "";
      if (!c.env.validKey(auth.startsWith("Bearer ") ? auth.slice(7) : "")) return openAIError(401, "Invalid API Key", "invalid_request_error", "invalid_api_key");
    }
    const fault = c.env.fault;
    if (fault?.status) return openAIError(fault.status, fault.message ?? `Simulated error ${fault.status}`, fault.status === 429 ? "rate_limit_exceeded" : "invalid_request_error");
    await next();
  });
  app.post("/:flavor/v1/chat/completions", async (c) => {
    const body = await c.req.json<ChatBody & Record<string, unknown>>();
    if (c.req.param("flavor") === "strict") {
      const violation = strictViolation(body);
      if (violation) return violation;
      return chat(body, c.env, { usageInFinishChunk: true });
    }
    return chat(body, c.env);
  });
  app.post("/:flavor/v1/embeddings", async (c) => embeddings(await c.req.json()));
  return app;
}
