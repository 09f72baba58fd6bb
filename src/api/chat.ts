import { Hono } from "hono";
import { openAIChatToInternal } from "../dialects/openai-chat";
import { serveChat } from "../pipeline/serve";
import { OpenAIChatRequestSchema } from "../schema/openai";
import type { AppEnv } from "../types";
import { readJsonBody } from "./body";

/** POST /v1/chat/completions */
export const chatApi = new Hono<AppEnv>().post("/", async (c) => {
  const body = await readJsonBody(c, OpenAIChatRequestSchema);
  return serveChat(c, openAIChatToInternal(body));
});
