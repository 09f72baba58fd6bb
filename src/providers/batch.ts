import type { ProviderConfig } from "../config/schema";
import type { ChatRequest, ChatResult, EmbeddingsRequest, EmbeddingsResult } from "../schema/internal";
import type { UpstreamErrorInfo, UpstreamTarget } from "./types";

/**
 * A provider's own batch API, behind one interface: submit translated lines, read the batch's state, read its
 * results back in the internal form, cancel. Like the chat adapters it is translation and HTTP shape only: the
 * native runner (src/batches/native.ts) decides when to call it and turns results into OpenAI's result files.
 * Provider file and batch ids live in the returned `ProviderBatchRef` and never leave the gateway.
 */

export type BatchLineRequest = { kind: "chat"; request: ChatRequest } | { kind: "embeddings"; request: EmbeddingsRequest };
export type BatchKind = BatchLineRequest["kind"];

/** One request as the provider gets it: `key` is the gateway's id for the line (the provider echoes it back). */
export type NativeLine = { key: string; line: BatchLineRequest };

export type ProviderLineOutcome =
  | { key: string; ok: true; kind: "chat"; result: ChatResult }
  | { key: string; ok: true; kind: "embeddings"; result: EmbeddingsResult }
  | { key: string; ok: false; status: number; error: UpstreamErrorInfo }
  /** The provider never ran the line (its batch was cancelled or expired first). */
  | { key: string; ok: false; skipped: "cancelled" | "expired" };

export type ProviderBatchState = {
  state: "running" | "completed" | "failed" | "expired" | "cancelled";
  /** Progress, when the provider reports it. */
  completed?: number;
  failed?: number;
  /** Why a batch failed, in the provider's words (redacted by the caller). */
  message?: string;
};

/** The provider's ids for one batch (its file, its batch): kept in the batch's runner state only. */
export type ProviderBatchRef = Record<string, string>;

/**
 * Sends one upstream request; a non-2xx answer is thrown as the provider's error (credentials redacted) unless
 * `accept` takes its status (a resumable upload's 308).
 */
export type ProviderCall = (request: Request, options?: { accept?: (status: number) => boolean }) => Promise<Response>;

export interface ProviderBatchApi<C extends ProviderConfig = ProviderConfig> {
  /** What its batch API runs. */
  readonly kinds: readonly BatchKind[];
  /** Why this provider cannot run a batch of `model` natively (checked when the batch is created), if it cannot. */
  unsupported?(config: C, model: string): string | undefined;
  /** Uploads the lines and creates the batch. `label` names it at the provider (the gateway's batch id). */
  submit(target: UpstreamTarget<C>, call: ProviderCall, kind: BatchKind, lines: AsyncIterable<NativeLine>, label: string): Promise<ProviderBatchRef>;
  status(target: UpstreamTarget<C>, call: ProviderCall, ref: ProviderBatchRef): Promise<ProviderBatchState>;
  /** Every result the provider has, as it streams in. */
  results(target: UpstreamTarget<C>, call: ProviderCall, ref: ProviderBatchRef, kind: BatchKind): AsyncIterable<ProviderLineOutcome>;
  cancel(target: UpstreamTarget<C>, call: ProviderCall, ref: ProviderBatchRef): Promise<void>;
}
