import type { Hono } from "hono";
import type { OpenAIBatchBook } from "./batches";
import type { SimulatorContext } from "./openai";
import { countTokens, type Fault } from "./scenarios";

/**
 * OpenAI's fine-tuning jobs API as OpenAI (and Azure OpenAI, at its own paths) serves it: jobs on uploaded
 * `fine-tune` files, checked as OpenAI checks them (the chat format, at least 10 examples), moving one step each
 * time the job is read (validating_files → queued → running → succeeded), with OpenAI's events (newest first,
 * `after` pages toward older ones) and checkpoints. A succeeded job's model joins `tunedModels`, which the chat
 * endpoint then serves. `Fault.batch` scripts a job that fails (its message echoing the caller's key) or one that
 * runs until cancelled.
 */

type JobEvent = { object: "fine_tuning.job.event"; id: string; created_at: number; level: string; message: string; data: unknown; type: string };
type Checkpoint = { object: "fine_tuning.job.checkpoint"; id: string; created_at: number; fine_tuned_model_checkpoint: string; step_number: number; metrics: Record<string, number>; fine_tuning_job_id: string };

type Job = {
  id: string;
  model: string;
  trainingFile: string;
  validationFile: string | null;
  suffix: string | null;
  seed: number;
  epochs: number;
  body: Record<string, unknown>;
  status: string;
  outcome: Fault["batch"];
  key: string;
  createdAt: number;
  finishedAt: number | null;
  fineTunedModel: string | null;
  trainedTokens: number | null;
  error: { code: string; message: string; param: string | null } | null;
  events: JobEvent[];
  checkpoints: Checkpoint[];
};

export type TuningDialect = {
  /** The models it tunes. */
  models: readonly string[];
  /** A tuned model's name: OpenAI `ft:<base>:<org>:<suffix>:<id>`, Azure `<base>.ft-<hex>`. */
  tunedName(base: string, suffix: string | null, id: string): string;
  /** Azure imports a file before a job may use it: its status reads `pending` once. */
  importsFiles?: boolean;
  error(status: number, message: string, code?: string): Response;
};

const now = () => Math.floor(Date.now() / 1000);
const random = (length: number, alphabet = "abcdefghijklmnopqrstuvwxyz0123456789") => Array.from({ length }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join("");
const MIN_EXAMPLES = 10;

/** Checks a training file as OpenAI does; the examples' total tokens, or why it is refused. */
function checkTrainingFile(content: string): { tokens: number; examples: number } | { code: string; message: string } {
  const lines = content.split("\n").filter((l) => l.trim() !== "");
  let tokens = 0;
  for (const [index, line] of lines.entries()) {
    let example: { messages?: { role?: string; content?: unknown }[]; input?: { messages?: unknown[] }; preferred_output?: unknown[]; prompt?: string; completion?: string };
    try {
      example = JSON.parse(line);
    } catch {
      return { code: "invalid_file_format", message: `Invalid file format. Line ${index + 1}: not valid JSON.` };
    }
    const messages = example.messages ?? (example.input?.messages as typeof example.messages);
    if (example.prompt !== undefined && example.completion !== undefined) {
      tokens += countTokens(example.prompt) + countTokens(example.completion);
      continue;
    }
    if (!Array.isArray(messages) || messages.length === 0) return { code: "invalid_file_format", message: `Invalid file format. Line ${index + 1}, key "messages": At least 1 message is required.` };
    for (const [m, message] of messages.entries()) {
      if (!["system", "user", "assistant", "tool"].includes(String(message.role))) return { code: "invalid_file_format", message: `Invalid file format. Line ${index + 1}, message ${m + 1}: Unrecognized role: ${String(message.role)}` };
      tokens += countTokens(typeof message.content === "string" ? message.content : JSON.stringify(message.content ?? ""));
    }
  }
  if (lines.length < MIN_EXAMPLES) return { code: "invalid_n_examples", message: `Training file has ${lines.length} example(s), but must have at least ${MIN_EXAMPLES} examples` };
  return { tokens, examples: lines.length };
}

export class FineTuningBook {
  readonly jobs = new Map<string, Job>();
  /** Tuned models and checkpoints the provider serves, with the base model they answer as. */
  readonly tunedModels = new Map<string, string>();

  constructor(
    private readonly files: OpenAIBatchBook,
    private readonly dialect: TuningDialect,
  ) {}

  #event(job: Job, message: string, type = "message", data: unknown = {}, level = "info"): void {
    job.events.push({ object: "fine_tuning.job.event", id: `ftevent-${random(24)}`, created_at: now(), level, message, data, type });
  }

  create(body: Record<string, unknown>, fault: Fault | undefined, key: string): Job | Response {
    const model = String(body.model ?? "");
    if (!this.dialect.models.includes(model) && !this.tunedModels.has(model)) return this.dialect.error(400, `Model ${model} is not available for fine-tuning or does not exist.`, "model_not_available");
    const training = this.files.files.get(String(body.training_file ?? ""));
    if (!training) return this.dialect.error(400, `invalid training_file: ${String(body.training_file)}`, "invalid_training_file");
    if (training.purpose !== "fine-tune") return this.dialect.error(400, `File ${training.id} has purpose ${training.purpose}; fine-tuning needs purpose fine-tune.`, "invalid_training_file");
    if (this.dialect.importsFiles && this.files.pending.has(training.id)) return this.dialect.error(400, `The training file ${training.id} has not been processed yet.`, "fileNotProcessed");
    const method = body.method as { supervised?: { hyperparameters?: { n_epochs?: unknown } } } | undefined;
    const hyperparameters = (body.hyperparameters ?? method?.supervised?.hyperparameters) as { n_epochs?: unknown } | undefined;
    const job: Job = {
      id: `ftjob-${random(24)}`,
      model,
      trainingFile: training.id,
      validationFile: typeof body.validation_file === "string" ? body.validation_file : null,
      suffix: typeof body.suffix === "string" ? body.suffix : null,
      seed: typeof body.seed === "number" ? body.seed : 42,
      epochs: typeof hyperparameters?.n_epochs === "number" ? hyperparameters.n_epochs : 3,
      body,
      status: "validating_files",
      outcome: fault?.batch,
      key,
      createdAt: now(),
      finishedAt: null,
      fineTunedModel: null,
      trainedTokens: null,
      error: null,
      events: [],
      checkpoints: [],
    };
    this.#event(job, `Created fine-tuning job: ${job.id}`);
    this.#event(job, `Validating training file: ${job.trainingFile}`);
    this.jobs.set(job.id, job);
    return job;
  }

  /** One step of progress, taken whenever the job is read. */
  advance(job: Job): void {
    const finish = (status: string) => {
      job.status = status;
      job.finishedAt = now();
    };
    switch (job.status) {
      case "validating_files": {
        if (job.outcome === "fail") {
          job.error = { code: "quota_exceeded", message: `Fine-tuning rejected for the credentials ${job.key}: this organization's training quota is exhausted.`, param: null };
          this.#event(job, job.error.message, "message", {}, "error");
          return finish("failed");
        }
        const checked = checkTrainingFile(this.files.files.get(job.trainingFile)?.content ?? "");
        if ("code" in checked) {
          job.error = { ...checked, param: "training_file" };
          this.#event(job, checked.message, "message", {}, "error");
          return finish("failed");
        }
        job.trainedTokens = checked.tokens * job.epochs;
        this.#event(job, "Files validated, moving job to queued state");
        job.status = "queued";
        return;
      }
      case "queued":
        this.#event(job, "Fine-tuning job started");
        job.status = "running";
        return;
      case "running": {
        if (job.outcome === "hold") return;
        const steps = 4;
        for (let step = 1; step <= steps; step++) this.#event(job, `Step ${step}/${steps}: training loss=${(1 / step).toFixed(2)}`, "metrics", { step, train_loss: 1 / step, total_steps: steps });
        const name = this.dialect.tunedName(job.model, job.suffix, random(8));
        for (const step of [steps / 2, steps]) {
          const checkpoint = step === steps ? name : `${name}:ckpt-step-${step}`;
          job.checkpoints.push({ object: "fine_tuning.job.checkpoint", id: `ftckpt_${random(16)}`, created_at: now(), fine_tuned_model_checkpoint: checkpoint, step_number: step, metrics: { step, train_loss: 1 / step }, fine_tuning_job_id: job.id });
          this.tunedModels.set(checkpoint, job.model);
        }
        job.fineTunedModel = name;
        this.#event(job, `New fine-tuned model created: ${name}`);
        this.#event(job, "The job has successfully completed");
        return finish("succeeded");
      }
    }
  }

  cancel(job: Job): void {
    if (["validating_files", "queued", "running"].includes(job.status)) {
      job.status = "cancelled";
      job.finishedAt = now();
      this.#event(job, "Job cancelled");
    }
  }

  jobObject(job: Job) {
    return {
      object: "fine_tuning.job",
      id: job.id,
      model: job.model,
      created_at: job.createdAt,
      finished_at: job.finishedAt,
      fine_tuned_model: job.fineTunedModel,
      organization_id: "org-sim",
      result_files: [],
      status: job.status,
      validation_file: job.validationFile,
      training_file: job.trainingFile,
      hyperparameters: { n_epochs: job.epochs, batch_size: 1, learning_rate_multiplier: 1.8 },
      trained_tokens: job.status === "succeeded" ? job.trainedTokens : null,
      error: job.error ?? {},
      seed: job.seed,
      estimated_finish: job.status === "running" ? now() + 600 : null,
      metadata: job.body.metadata ?? null,
      method: job.body.method ?? { type: "supervised" },
    };
  }
}

/** A page of a newest-first list: `after` is the id the previous page ended with. */
function page<T extends { id: string }>(items: T[], query: Record<string, string>): { object: "list"; data: T[]; has_more: boolean } {
  const newestFirst = [...items].reverse();
  const start = query.after ? newestFirst.findIndex((item) => item.id === query.after) + 1 : 0;
  const limit = Number(query.limit ?? 20);
  const data = newestFirst.slice(start, start + limit);
  return { object: "list", data, has_more: start + limit < newestFirst.length };
}

/** The fine-tuning routes under `prefix` (OpenAI: /v1; Azure: /openai or /openai/v1). */
export function mountFineTuningRoutes(app: Hono<{ Bindings: SimulatorContext }>, prefix: string, book: FineTuningBook, keyOf: (headers: Headers) => string, error: TuningDialect["error"]): void {
  const find = (id: string) => book.jobs.get(id);
  const notFound = (id: string) => error(404, `Could not find fine-tune: ${id}`, "fine_tune_not_found");
  app.post(`${prefix}/fine_tuning/jobs`, async (c) => {
    const created = book.create(await c.req.json(), c.env.fault, keyOf(c.req.raw.headers));
    return created instanceof Response ? created : c.json(book.jobObject(created));
  });
  app.get(`${prefix}/fine_tuning/jobs/:id`, (c) => {
    const job = find(c.req.param("id"));
    if (!job) return notFound(c.req.param("id"));
    book.advance(job);
    return c.json(book.jobObject(job));
  });
  app.post(`${prefix}/fine_tuning/jobs/:id/cancel`, (c) => {
    const job = find(c.req.param("id"));
    if (!job) return notFound(c.req.param("id"));
    if (!["validating_files", "queued", "running"].includes(job.status)) return error(400, `Job ${job.id} has already ${job.status}.`, "invalid_request");
    book.cancel(job);
    return c.json(book.jobObject(job));
  });
  app.get(`${prefix}/fine_tuning/jobs/:id/events`, (c) => {
    const job = find(c.req.param("id"));
    return job ? c.json(page(job.events, c.req.query())) : notFound(c.req.param("id"));
  });
  app.get(`${prefix}/fine_tuning/jobs/:id/checkpoints`, (c) => {
    const job = find(c.req.param("id"));
    return job ? c.json(page(job.checkpoints, c.req.query())) : notFound(c.req.param("id"));
  });
}
