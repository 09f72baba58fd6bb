import { Hono } from "hono";
import { anthropicMessagesToInternal } from "../dialects/anthropic-messages";
import { serveChat } from "../pipeline/serve";
import { AnthropicMessagesRequestSchema } from "../schema/anthropic";
import type { AppEnv } from "../types";
import { readJsonBody } from "./body";

/** POST /v1/messages (the Anthropic Messages API; errors in Anthropic's shape). */
export const messagesApi = new Hono<AppEnv>().post("/", async (c) => {
  const body = await readJsonBody(c, AnthropicMessagesRequestSchema);
  return serveChat(c, anthropicMessagesToInternal(body));
});
