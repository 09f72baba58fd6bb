import type { Hono } from "hono";
import { generateContent, googleError, splitModelMethod } from "./gemini";
import type { SimulatorContext } from "./openai";
import { countTokens, type Fault } from "./scenarios";

/**
 * Vertex AI supervised tuning (`tuningJobs`) as Vertex runs it: a job on a JSONL dataset in Cloud Storage (the
 * objects the simulator's Cloud Storage holds), checked line by line in Vertex's Gemini format, moving one state
 * per read (PENDING → RUNNING → SUCCEEDED); a succeeded job has a tuned model and the endpoint that serves it
 * (`/v1/projects/…/endpoints/{id}:generateContent`), with a checkpoint per epoch. `Fault.batch: "fail"` fails a job,
 * `"hold"` keeps it running until cancelled.
 */

const TUNABLE = ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash-001", "gemini-2.0-flash-lite-001"];

type TuningJob = {
  name: string;
  baseModel: string;
  training: string;
  spec: Record<string, unknown>;
  displayName: string;
  state: string;
  outcome: Fault["batch"];
  createTime: string;
  tokens: number;
  error: { code: number; message: string } | null;
  tunedModel: Record<string, unknown> | null;
};

type Content = { role?: string; parts?: Record<string, unknown>[] };

/** Checks the dataset as Vertex does; the billable tokens of one epoch, or why it is refused. */
function checkDataset(text: string | undefined, uri: string): { tokens: number } | { problem: string } {
  if (text === undefined) return { problem: `The training dataset ${uri} does not exist.` };
  let tokens = 0;
  for (const [index, line] of text.split("\n").filter((l) => l.trim() !== "").entries()) {
    const where = `Line ${index + 1} of ${uri}`;
    let example: { contents?: Content[]; systemInstruction?: Content; tools?: unknown; [key: string]: unknown };
    try {
      example = JSON.parse(line);
    } catch {
      return { problem: `${where} is not valid JSON.` };
    }
    const unknown = Object.keys(example).find((key) => !["contents", "systemInstruction", "tools"].includes(key));
    if (unknown) return { problem: `${where}: unknown field "${unknown}".` };
    const contents = example.contents;
    if (!Array.isArray(contents) || contents.length === 0) return { problem: `${where}: contents is required.` };
    for (const content of contents) {
      if (content.role !== "user" && content.role !== "model") return { problem: `${where}: role must be user or model.` };
      if (!Array.isArray(content.parts) || content.parts.length === 0) return { problem: `${where}: each content needs parts.` };
      tokens += content.parts.reduce((sum, part) => sum + countTokens(JSON.stringify(part)), 0);
    }
    if (contents.at(-1)!.role !== "model") return { problem: `${where}: the last content must be from the model.` };
  }
  return { tokens };
}

export function mountVertexTuning(app: Hono<{ Bindings: SimulatorContext }>, objects: Map<string, string>): void {
  const jobs = new Map<string, TuningJob>();
  /** Endpoints tuned models are served at: endpoint id → the base model that answers. */
  const endpoints = new Map<string, string>();
  const base = "/v1/projects/:project/locations/:location";

  const resource = (job: TuningJob) => ({
    name: job.name,
    tunedModelDisplayName: job.displayName,
    baseModel: job.baseModel,
    supervisedTuningSpec: job.spec,
    state: job.state,
    createTime: job.createTime,
    updateTime: new Date().toISOString(),
    ...(job.error ? { error: job.error } : {}),
    ...(job.tunedModel ? { tunedModel: job.tunedModel, endTime: new Date().toISOString() } : {}),
    ...(job.state !== "JOB_STATE_PENDING" ? { tuningDataStats: { supervisedTuningDataStats: { tuningDatasetExampleCount: "1", totalBillableTokenCount: String(job.tokens), tuningStepCount: "2" } } } : {}),
  });

  app.post(`${base}/tuningJobs`, async (c) => {
    const body = await c.req.json<{ baseModel?: string; supervisedTuningSpec?: { trainingDatasetUri?: string }; tunedModelDisplayName?: string }>();
    if (!TUNABLE.includes(body.baseModel ?? "")) return googleError(400, `Base model ${body.baseModel} is not supported for supervised tuning.`);
    const training = body.supervisedTuningSpec?.trainingDatasetUri ?? "";
    if (!training.startsWith("gs://")) return googleError(400, "supervisedTuningSpec.trainingDatasetUri must be a Cloud Storage URI.");
    const id = String(Math.floor(Math.random() * 1e18));
    const job: TuningJob = {
      name: `projects/${c.req.param("project")}/locations/${c.req.param("location")}/tuningJobs/${id}`,
      baseModel: body.baseModel!,
      training,
      spec: body.supervisedTuningSpec as Record<string, unknown>,
      displayName: body.tunedModelDisplayName ?? id,
      state: "JOB_STATE_PENDING",
      outcome: c.env.fault?.batch,
      createTime: new Date().toISOString(),
      tokens: 0,
      error: null,
      tunedModel: null,
    };
    jobs.set(id, job);
    return c.json(resource(job));
  });

  app.get(`${base}/tuningJobs/:id`, (c) => {
    const job = jobs.get(c.req.param("id"));
    if (!job) return googleError(404, "The TuningJob does not exist.");
    if (job.state === "JOB_STATE_PENDING") {
      const checked = checkDataset(objects.get(job.training.slice(5)), job.training);
      if ("problem" in checked) {
        job.state = "JOB_STATE_FAILED";
        job.error = { code: 3, message: checked.problem };
      } else {
        job.tokens = checked.tokens;
        job.state = job.outcome === "fail" ? "JOB_STATE_FAILED" : "JOB_STATE_RUNNING";
        if (job.outcome === "fail") job.error = { code: 8, message: "Tuning failed: the project's tuning quota in this region is exhausted." };
      }
    } else if (job.state === "JOB_STATE_RUNNING" && job.outcome !== "hold") {
      const project = c.req.param("project");
      const location = c.req.param("location");
      const endpoint = (n: string) => `projects/${project}/locations/${location}/endpoints/${n}`;
      const tuned = String(Math.floor(Math.random() * 1e15));
      const checkpoints = ["1", "2"].map((epoch) => {
        const id = String(Math.floor(Math.random() * 1e15));
        endpoints.set(id, job.baseModel);
        return { checkpointId: epoch, epoch, step: String(Number(epoch) * 5), endpoint: endpoint(id) };
      });
      endpoints.set(tuned, job.baseModel);
      job.tunedModel = { model: `projects/${project}/locations/${location}/models/${tuned}@1`, endpoint: endpoint(tuned), checkpoints };
      job.state = "JOB_STATE_SUCCEEDED";
    }
    return c.json(resource(job));
  });

  app.post(`${base}/tuningJobs/:call`, (c) => {
    const { model: id, method } = splitModelMethod(c.req.param("call"));
    const job = jobs.get(id);
    if (!job || method !== "cancel") return googleError(404, "The TuningJob does not exist.");
    if (["JOB_STATE_PENDING", "JOB_STATE_RUNNING"].includes(job.state)) job.state = "JOB_STATE_CANCELLED";
    return c.json({});
  });

  app.post(`${base}/endpoints/:call`, async (c) => {
    const { model: id, method } = splitModelMethod(c.req.param("call"));
    const model = endpoints.get(id);
    if (!model) return googleError(404, `Endpoint projects/${c.req.param("project")}/locations/${c.req.param("location")}/endpoints/${id} not found.`);
    if (method === "generateContent") return generateContent(model, await c.req.json(), false, c.env.fault);
    if (method === "streamGenerateContent" && c.req.query("alt") === "sse") return generateContent(model, await c.req.json(), true, c.env.fault);
    return googleError(404, `The endpoint does not support ${method}.`);
  });
}
