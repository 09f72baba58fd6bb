import { Hono } from "hono";
import type { Context } from "hono";
import { checkToolCallOrder, echoOf, normalizeInput, renderResponse, responsesToInternal, type ResponseObject } from "../dialects/openai-responses";
import { ResponsesStreamRenderer } from "../dialects/openai-responses-stream";
import { badRequest } from "../lib/errors";
import { serveChat } from "../pipeline/serve";
import { newResponseId, retentionDaysOf, StoredResponses } from "../responses/store";
import { ListInputItemsQuerySchema, ResponsesRequestSchema, type StoredItem } from "../schema/openai-responses";
import type { AppEnv } from "../types";
import { readJsonBody } from "./body";

const storeOf = (c: Context<AppEnv>) => new StoredResponses(c.env, c.get("workspaceId"));

const logError = (message: string, fields: Record<string, unknown>) => console.error(JSON.stringify({ level: "error", message, ...fields }));

/**
 * The answer waits for its storage at most this long: a store that does not answer must not hold a finished
 * answer back (the write may still land; if it does not, continuing from the response is a 404).
 */
const STORE_WAIT_MS = 10_000;

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * /v1/responses: the OpenAI Responses API over every provider. A request is translated to the internal form
 * (its stored conversation first, when it continues one) and served by the same pipeline as chat completions —
 * routing, cache, coalescing, retries, fallbacks, limits, budgets, usage — then answered as a Response object or
 * the Responses event stream, and stored (unless `store: false`) before the client is told it completed.
 */
export const responsesApi = new Hono<AppEnv>()
  .post("/", async (c) => {
    const record = c.get("record");
    const body = await readJsonBody(c, ResponsesRequestSchema);
    const store = storeOf(c);
    const retentionDays = retentionDaysOf(c.get("config"));
    const storing = body.store !== false && retentionDays > 0;
    const previousId = body.previous_response_id ?? null;
    const history: StoredItem[] = previousId ? await store.conversation(previousId) : [];
    const input = normalizeInput(body.input);
    checkToolCallOrder(history, input);
    const request = responsesToInternal(body, [...history, ...input]);
    const echo = echoOf(body, newResponseId(previousId ?? undefined), Math.floor(Date.now() / 1000), storing);

    const save = async (response: ResponseObject): Promise<void> => {
      if (!storing) return;
      const write = store.put({ id: echo.id, response, input, output: response.output, previousId, keyId: c.get("key").id ?? null, retentionDays });
      // A write that outlives the wait still finishes after the response.
      c.executionCtx.waitUntil(write.catch(() => undefined));
      try {
        await within(write, STORE_WAIT_MS);
      } catch (error) {
        // The answer still goes out; continuing from it will then find nothing (404), which is what it says.
        logError("storing a response failed", { requestId: record.requestId, responseId: echo.id, error: error instanceof Error ? error.message : String(error) });
      }
    };
    let completed: ResponseObject | undefined;
    const response = await serveChat(c, request, {
      operation: "responses",
      presentation: {
        body: (result) => (completed = renderResponse(echo, result)),
        renderer: () => new ResponsesStreamRenderer(echo, save),
      },
    });
    // A JSON answer is stored before the client has it, so it can be continued at once.
    if (completed) await save(completed);
    return response;
  })
  .get("/:id", async (c) => {
    if (c.req.query("stream") === "true") throw badRequest("Replaying a stored response as a stream is not supported; retrieve it without stream.", "stream", "unsupported_parameter");
    return c.json(await storeOf(c).get(c.req.param("id")));
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    await storeOf(c).delete(id);
    return c.json({ id, object: "response", deleted: true });
  })
  .get("/:id/input_items", async (c) => {
    const parsed = ListInputItemsQuerySchema.safeParse(c.req.query());
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const param = String(issue.path[0] ?? "query");
      throw badRequest(`Invalid value for '${param}': ${issue.message}`, param, "invalid_value");
    }
    const page = await storeOf(c).inputItems(c.req.param("id"), parsed.data);
    return c.json({ object: "list", data: page.data, first_id: page.firstId, last_id: page.lastId, has_more: page.hasMore });
  });
