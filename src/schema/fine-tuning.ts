import * as z from "zod";

/**
 * Fine-tuning jobs as the gateway keeps them (D1 `fine_tuning_jobs`, migrations/0007) and as clients see them
 * (OpenAI's `fine_tuning.job`). Every provider's job is normalised to OpenAI's statuses.
 */

export const JOB_STATUSES = ["validating_files", "queued", "running", "succeeded", "failed", "cancelled"] as const;
export const JobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatusSchema>;

export const FINAL_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "cancelled"];
export const ACTIVE_STATUSES: readonly JobStatus[] = ["validating_files", "queued", "running"];
export const isFinal = (status: JobStatus) => FINAL_STATUSES.includes(status);

/** A hyperparameter: a number, or "auto" (the provider decides). */
const AutoOr = <T extends z.ZodType>(schema: T) => z.union([z.literal("auto"), schema]);

export const HyperparametersSchema = z.strictObject({
  n_epochs: AutoOr(z.number().int().min(1).max(50)).optional(),
  batch_size: AutoOr(z.number().int().min(1).max(256)).optional(),
  learning_rate_multiplier: AutoOr(z.number().positive().max(100)).optional(),
});
export type Hyperparameters = z.infer<typeof HyperparametersSchema>;

const DpoHyperparametersSchema = HyperparametersSchema.extend({ beta: AutoOr(z.number().positive().max(2)).optional() });

/** OpenAI's `method`: supervised (every provider) or DPO (where the provider has preference tuning). */
export const MethodSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("supervised"), supervised: z.strictObject({ hyperparameters: HyperparametersSchema.optional() }).optional() }),
  z.strictObject({ type: z.literal("dpo"), dpo: z.strictObject({ hyperparameters: DpoHyperparametersSchema.optional() }).optional() }),
]);
export type Method = z.infer<typeof MethodSchema>;
export type MethodType = Method["type"];

/** The method's hyperparameters, whichever method it is. */
export const hyperparametersOf = (method: Method): Hyperparameters & { beta?: number | "auto" } =>
  (method.type === "supervised" ? method.supervised?.hyperparameters : method.dpo?.hyperparameters) ?? {};

export const JobErrorSchema = z.object({ code: z.string(), message: z.string(), param: z.string().nullable() });
export type JobError = z.infer<typeof JobErrorSchema>;

/** A checkpoint as the provider reported it: a model that can be called like the final one, where the provider serves it. */
export const CheckpointSchema = z.object({
  id: z.string(),
  createdAt: z.number().int(),
  model: z.string(),
  step: z.number().int(),
  metrics: z.record(z.string(), z.number()),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

export const JobRecordSchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  keyId: z.string().nullable(),
  provider: z.string(),
  providerType: z.string(),
  model: z.string(),
  baseModel: z.string(),
  trainingFile: z.string(),
  validationFile: z.string().nullable(),
  method: MethodSchema,
  suffix: z.string().nullable(),
  seed: z.number().int().nullable(),
  metadata: z.record(z.string(), z.string()).nullable(),
  status: JobStatusSchema,
  fineTunedModel: z.string().nullable(),
  trainedTokens: z.number().int().nullable(),
  error: JobErrorSchema.nullable(),
  checkpoints: z.array(CheckpointSchema).nullable(),
  /** The runner's own state (provider file, object and job ids): never rendered, never sent to a client. */
  runnerState: z.record(z.string(), z.unknown()).nullable(),
  cancelRequested: z.boolean(),
  createdAt: z.number().int(),
  finishedAt: z.number().int().nullable(),
  estimatedFinish: z.number().int().nullable(),
});
export type JobRecord = z.infer<typeof JobRecordSchema>;

/** OpenAI's fine_tuning.job object. Provider ids and runner state never appear here. */
export function renderJob(job: JobRecord) {
  const hyperparameters = hyperparametersOf(job.method);
  return {
    id: job.id,
    object: "fine_tuning.job" as const,
    created_at: job.createdAt,
    error: job.error,
    fine_tuned_model: job.fineTunedModel,
    finished_at: job.finishedAt,
    hyperparameters: { n_epochs: hyperparameters.n_epochs ?? "auto", batch_size: hyperparameters.batch_size ?? "auto", learning_rate_multiplier: hyperparameters.learning_rate_multiplier ?? "auto" },
    model: job.model,
    organization_id: job.workspaceId,
    result_files: [] as string[],
    seed: job.seed ?? 0,
    status: job.status,
    trained_tokens: job.trainedTokens,
    training_file: job.trainingFile,
    validation_file: job.validationFile,
    estimated_finish: job.estimatedFinish,
    integrations: null,
    metadata: job.metadata,
    method: job.method,
    user_provided_suffix: job.suffix,
  };
}

/** OpenAI's fine_tuning.job.checkpoint object. */
export const renderCheckpoint = (job: JobRecord, checkpoint: Checkpoint) => ({
  object: "fine_tuning.job.checkpoint" as const,
  id: checkpoint.id,
  created_at: checkpoint.createdAt,
  fine_tuned_model_checkpoint: checkpoint.model,
  fine_tuning_job_id: job.id,
  step_number: checkpoint.step,
  metrics: checkpoint.metrics,
});

export const EVENT_LEVELS = ["info", "warn", "error"] as const;
export const JobEventSchema = z.object({
  id: z.string(),
  createdAt: z.number().int(),
  level: z.enum(EVENT_LEVELS),
  type: z.enum(["message", "metrics"]),
  message: z.string(),
  data: z.unknown().nullable(),
});
export type JobEvent = z.infer<typeof JobEventSchema>;

/** OpenAI's fine_tuning.job.event object. */
export const renderEvent = (event: JobEvent) => ({
  object: "fine_tuning.job.event" as const,
  id: event.id,
  created_at: event.createdAt,
  level: event.level,
  message: event.message,
  data: event.data ?? {},
  type: event.type,
});
