import { Hono } from "hono";
import { serveEmbeddings } from "../pipeline/serve";
import { OpenAIEmbeddingsRequestSchema } from "../schema/openai";
import type { AppEnv } from "../types";
import { readJsonBody } from "./body";

/** POST /v1/embeddings */
export const embeddingsApi = new Hono<AppEnv>().post("/", async (c) => {
  const body = await readJsonBody(c, OpenAIEmbeddingsRequestSchema);
  return serveEmbeddings(c, {
    model: body.model,
    input: typeof body.input === "string" ? [body.input] : body.input,
    encodingFormat: body.encoding_format ?? "float",
    ...(body.dimensions !== undefined ? { dimensions: body.dimensions } : {}),
    ...(body.user !== undefined ? { user: body.user } : {}),
  });
});
