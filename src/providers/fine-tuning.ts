import type { ProviderConfig } from "../config/schema";
import type { ExampleKind, TrainingExample } from "../schema/training-example";
import type { Checkpoint, Hyperparameters, JobError, JobEvent, JobStatus, MethodType } from "../schema/fine-tuning";
import type { ProviderCall } from "./batch";
import type { UpstreamTarget } from "./types";

/**
 * A provider's fine-tuning API behind one interface, like `ProviderBatchApi`: what it can tune and how its dataset
 * lines look (pure, checked before anything is uploaded), then the HTTP shape of uploading, creating, following,
 * cancelling a job and serving the tuned model. The runner (src/fine-tuning/runner.ts) decides when to call it.
 * Provider ids live in the returned refs and never leave the gateway.
 */

/** What a job asks for, as the provider's checks and job creation need it. */
export type TuningRequest = {
  /** The provider's model as the client named it (after `provider/`, or the route's target). */
  model: string;
  method: MethodType;
  hyperparameters: Hyperparameters & { beta?: number | "auto" };
  suffix: string | null;
  seed: number | null;
};

/** The provider's decision on a job, made when it is created: what it tunes and which example kinds it takes. */
export type TuningPlan = {
  /** The provider's id of the base model (`amazon.nova-micro-v1:0:128k`, `gemini-2.0-flash-001`). */
  baseModel: string;
  /** The example kinds its dataset takes (chat, preference, completion). */
  kinds: readonly ExampleKind[];
  /** The provider's dataset format for this model (Bedrock has several). */
  format: string;
};

export type DatasetRole = "training" | "validation";

/** The provider's ids for one job and what it uploaded: kept in the job's runner state only. */
export type ProviderJobRef = Record<string, string>;

/** A provider event, before it gets its gateway id (derived from `sourceId`). */
export type ProviderEvent = Omit<JobEvent, "id"> & { sourceId: string };

export type ProviderJobState = {
  status: JobStatus;
  /** The tuned model's id, once the job succeeded. */
  tunedModel?: string;
  /** Billable training tokens, where the provider reports them. */
  trainedTokens?: number;
  /** Why the job failed, in the provider's words (redacted by the caller). */
  error?: JobError;
  estimatedFinish?: number;
  checkpoints?: Checkpoint[];
};

/** Serving a tuned model (a deployment) is a step of its own: `ready` once it can be called as `model`. */
export type ServeStep = { ready: true; model: string } | { ready: false; state: Record<string, string> };

export interface ProviderTuningApi<C extends ProviderConfig = ProviderConfig> {
  /** Ids of models this provider's tuning makes (and that the gateway guards per workspace). */
  readonly tunedModelPattern: RegExp;
  /** Checks that the provider can tune this model this way with this config; throws a 400 naming the field. */
  plan(config: C, request: TuningRequest, providerName: string): TuningPlan;
  /** One example as the provider's dataset line (a JSON value); throws a LineProblem. Pure. */
  convert(example: TrainingExample, plan: TuningPlan): unknown;
  /** Uploads converted lines where the provider reads datasets; returns its reference (a file id, a gs:// or s3:// URI). */
  upload(target: UpstreamTarget<C>, call: ProviderCall, role: DatasetRole, lines: AsyncIterable<string>, label: string): Promise<string>;
  /** Creates the job; null when the provider is not ready for it yet (an uploaded file still being processed). */
  create(target: UpstreamTarget<C>, call: ProviderCall, plan: TuningPlan, request: TuningRequest, datasets: { training: string; validation: string | null }, label: string): Promise<ProviderJobRef | null>;
  status(target: UpstreamTarget<C>, call: ProviderCall, ref: ProviderJobRef): Promise<ProviderJobState>;
  /** Events the provider reports after `after` (its own event id), oldest first; absent where it has none. */
  events?(target: UpstreamTarget<C>, call: ProviderCall, ref: ProviderJobRef, after: string | undefined): Promise<ProviderEvent[]>;
  cancel(target: UpstreamTarget<C>, call: ProviderCall, ref: ProviderJobRef): Promise<void>;
  /**
   * Makes a succeeded job's model callable (a deployment), step by step: called with the state it returned last
   * until it answers `ready`. Absent where the provider serves a tuned model as soon as it exists.
   */
  serve?(target: UpstreamTarget<C>, call: ProviderCall, plan: TuningPlan, tunedModel: string, state: Record<string, string> | undefined, label: string): Promise<ServeStep>;
}
