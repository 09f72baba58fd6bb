import { Hono } from "hono";
import * as z from "zod";
import { maxFileBytesOf } from "../files/options";
import { renderFile } from "../files/schema";
import { deleteFile, fileNotFound, listFiles, openFileContent, requireFile } from "../files/store";
import { receiveUpload } from "../files/upload";
import type { AppEnv } from "../types";
import { parseQuery } from "./body";

/** OpenAI's list parameters: `limit` 1–10,000 (default 10,000), `order` by creation time (default desc). */
const ListQuerySchema = z.strictObject({
  purpose: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  after: z.string().min(1).optional(),
  order: z.enum(["asc", "desc"]).default("desc"),
});


/** /v1/files: OpenAI's Files API, per workspace (src/files/). */
export const filesApi = new Hono<AppEnv>()
  .post("/", async (c) => {
    const file = await receiveUpload(c.env, c.get("workspaceId"), c.req.raw, maxFileBytesOf(c.get("config")));
    return c.json(renderFile(file));
  })
  .get("/", async (c) => {
    const query = parseQuery(ListQuerySchema, c.req.query());
    const { files, hasMore } = await listFiles(c.env, c.get("workspaceId"), query);
    const data = files.map(renderFile);
    return c.json({ object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore });
  })
  .get("/:id", async (c) => c.json(renderFile(await requireFile(c.env, c.get("workspaceId"), c.req.param("id")))))
  .get("/:id/content", async (c) => {
    const file = await requireFile(c.env, c.get("workspaceId"), c.req.param("id"));
    return new Response(await openFileContent(c.env, file), {
      headers: { "content-type": "application/octet-stream", "content-length": String(file.bytes), "content-disposition": `attachment; filename="${file.filename.replace(/["\\\r\n]/g, "_")}"` },
    });
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    if (!(await deleteFile(c.env, c.get("workspaceId"), id))) throw fileNotFound(id);
    return c.json({ id, object: "file", deleted: true });
  });
