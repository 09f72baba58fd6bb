import type { Context } from "hono";
import { Hono } from "hono";
import * as z from "zod";
import { CreateJobSchema, createJob } from "../fine-tuning/create";
import { isFinal, renderCheckpoint, renderEvent, renderJob, type JobRecord } from "../schema/fine-tuning";
import { findJob, listEvents, listJobs, updateJob } from "../fine-tuning/store";
import { GatewayError, badRequest } from "../lib/errors";
import type { AppEnv } from "../types";
import { parseQuery, readJsonBody } from "./body";

const PageSchema = z.object({
  after: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** `metadata[k]=v` filters of the job list. */
const metadataFilterOf = (query: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(query).flatMap(([name, value]) => {
    const key = /^metadata\[(.+)\]$/.exec(name)?.[1];
    return key === undefined ? [] : [[key, value]];
  }));

const withoutMetadata = (query: Record<string, string>) => Object.fromEntries(Object.entries(query).filter(([name]) => !name.startsWith("metadata")));

async function requireJob(c: Context<AppEnv>): Promise<JobRecord> {
  const id = c.req.param("id")!;
  const job = await findJob(c.env.USAGE_DB, c.get("workspaceId"), id);
  if (!job) throw new GatewayError({ status: 404, type: "invalid_request_error", code: "fine_tuning_job_not_found", param: "fine_tuning_job_id", message: `No such fine-tuning job: ${id}` });
  return job;
}

const list = <T extends { id: string }>(data: T[], hasMore: boolean) => ({ object: "list" as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore });

/** /v1/fine_tuning/jobs: OpenAI's fine-tuning jobs API over OpenAI, Azure OpenAI, Vertex AI and Bedrock (src/fine-tuning/). */
export const fineTuningApi = new Hono<AppEnv>()
  .post("/jobs", async (c) => {
    const body = await readJsonBody(c, CreateJobSchema);
    const job = await createJob({ env: c.env, workspaceId: c.get("workspaceId"), config: c.get("config"), key: c.get("key") }, body);
    return c.json(renderJob(job));
  })
  .get("/jobs", async (c) => {
    const query = c.req.query();
    const page = parseQuery(PageSchema.strict(), withoutMetadata(query));
    const { jobs, hasMore } = await listJobs(c.env.USAGE_DB, c.get("workspaceId"), { ...page, metadata: metadataFilterOf(query) });
    return c.json(list(jobs.map(renderJob), hasMore));
  })
  .get("/jobs/:id", async (c) => c.json(renderJob(await requireJob(c))))
  .post("/jobs/:id/cancel", async (c) => {
    const job = await requireJob(c);
    if (isFinal(job.status)) {
      if (job.status === "cancelled") return c.json(renderJob(job));
      throw badRequest(`Cannot cancel a fine-tuning job with status "${job.status}".`, null, "job_not_cancellable");
    }
    if (!job.cancelRequested) {
      await updateJob(c.env.USAGE_DB, job, { cancelRequested: true });
      // The driver passes the cancel on at once; the job says `cancelled` when the provider has stopped it.
      await c.env.FINE_TUNING_DRIVER.getByName(job.id).wake();
    }
    return c.json(renderJob((await findJob(c.env.USAGE_DB, job.workspaceId, job.id)) ?? job));
  })
  .get("/jobs/:id/events", async (c) => {
    const job = await requireJob(c);
    const { events, hasMore } = await listEvents(c.env.USAGE_DB, job, parseQuery(PageSchema.strict(), c.req.query()));
    return c.json(list(events.map(renderEvent), hasMore));
  })
  .get("/jobs/:id/checkpoints", async (c) => {
    const job = await requireJob(c);
    const page = parseQuery(PageSchema.extend({ limit: z.coerce.number().int().min(1).max(100).default(10) }).strict(), c.req.query());
    // Newest first, as OpenAI lists them; `after` is the last id of the previous page.
    const all = [...(job.checkpoints ?? [])].sort((a, b) => b.step - a.step);
    const start = page.after === undefined ? 0 : all.findIndex((ck) => ck.id === page.after) + 1;
    const slice = start === 0 && page.after !== undefined ? [] : all.slice(start, start + page.limit);
    return c.json(list(slice.map((ck) => renderCheckpoint(job, ck)), start + page.limit < all.length));
  });
