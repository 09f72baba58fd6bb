import { Hono } from "hono";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { adminApi } from "./api/admin";
import { adminAccess } from "./api/admin/access";
import { chatApi } from "./api/chat";
import { dashboardApi } from "./api/dashboard";
import { embeddingsApi } from "./api/embeddings";
import { filesApi } from "./api/files";
import { fineTuningApi } from "./api/fine-tuning";
import { batchesApi } from "./api/batches";
import { messageBatchesApi } from "./api/message-batches";
import { messagesApi } from "./api/messages";
import { modelsApi } from "./api/models";
import { responsesApi } from "./api/responses";
import { GatewayError } from "./lib/errors";
import { requestContext } from "./pipeline/request-context";
import { adminAuth } from "./policy/admin-auth";
import { gatewayKeyAuth } from "./policy/auth";
import { rateLimitHeaders } from "./policy/limits";
import type { AppEnv } from "./types";
import { usageRecording } from "./settle/usage-event";

/** Paths the gateway serves and the methods each allows: anything else on them is a 405, elsewhere a 404. */
const ALLOWED_METHODS: Record<string, string[]> = {
  "/v1/chat/completions": ["POST"],
  "/v1/messages": ["POST"],
  "/v1/responses": ["POST"],
  "/v1/embeddings": ["POST"],
  "/v1/models": ["GET"],
  "/v1/files": ["GET", "POST"],
  "/v1/batches": ["GET", "POST"],
  "/v1/messages/batches": ["GET", "POST"],
  "/v1/fine_tuning/jobs": ["GET", "POST"],
};

/** Paths with an id in them, and their methods. */
const ALLOWED_METHODS_BY_PATTERN: [RegExp, string[]][] = [
  [/^\/v1\/responses\/[^/]+$/, ["GET", "DELETE"]],
  [/^\/v1\/responses\/[^/]+\/input_items$/, ["GET"]],
];

const allowedMethods = (path: string): string[] | undefined => ALLOWED_METHODS[path] ?? ALLOWED_METHODS_BY_PATTERN.find(([pattern]) => pattern.test(path))?.[1];

function errorResponse(c: Context<AppEnv>, error: GatewayError): Response {
  const dialect = c.get("dialect") ?? "openai";
  return c.json(error.bodyFor(dialect), error.status as 400, error.headers);
}

export const app = new Hono<AppEnv>();

app.use("*", requestContext());

app.use("/v1/*", async (c, next) => {
  const allowed = allowedMethods(c.req.path);
  if (allowed && !allowed.includes(c.req.method)) {
    throw new GatewayError({ status: 405, type: "invalid_request_error", code: "method_not_allowed", message: `${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(", ")}.`, headers: { allow: allowed.join(", ") } });
  }
  await next();
});
app.use("/v1/*", gatewayKeyAuth());
app.use("/v1/*", rateLimitHeaders());
// Usage events are per model request; files and batches account for their lines themselves (src/batches/usage.ts).
for (const path of ["/v1/chat/completions", "/v1/messages", "/v1/responses", "/v1/embeddings"]) app.use(path, usageRecording());
app.route("/v1/chat/completions", chatApi);
app.route("/v1/messages/batches", messageBatchesApi);
app.route("/v1/messages", messagesApi);
app.route("/v1/responses", responsesApi);
app.route("/v1/embeddings", embeddingsApi);
app.route("/v1/models", modelsApi);
app.route("/v1/files", filesApi);
app.route("/v1/batches", batchesApi);
app.route("/v1/fine_tuning", fineTuningApi);

app.use("/admin/*", adminAuth());
app.use("/admin/*", adminAccess());
app.route("/admin", adminApi);
app.route("/dashboard", dashboardApi);

app.get("/", (c) => c.json({ name: "switchyard", docs: "https://github.com/switchyard (see README.md)" }));

app.notFound((c) => errorResponse(c, new GatewayError({ status: 404, type: "invalid_request_error", code: "unknown_url", message: `Unknown request URL: ${c.req.method} ${c.req.path}.` })));

app.onError((error, c) => {
  // Whatever an upstream said on the way here, no provider secret of this request leaves in it.
  const redactor = c.get("redactor");
  if (redactor && error instanceof Error) redactor.redactError(error);
  if (error instanceof GatewayError) return errorResponse(c, error);
  if (error instanceof HTTPException) {
    return errorResponse(c, new GatewayError({ status: error.status, message: error.message || "Request rejected." }));
  }
  // An unexpected failure: log what helps (never request bodies or secrets) and answer without details.
  console.error(JSON.stringify({ level: "error", requestId: c.get("requestId"), error: error instanceof Error ? error.name : "unknown", message: error instanceof Error ? error.message : String(error) }));
  return errorResponse(c, new GatewayError({ status: 500, type: "api_error", code: "internal_error", message: `The gateway failed to handle this request (request id ${c.get("requestId")}).` }));
});
