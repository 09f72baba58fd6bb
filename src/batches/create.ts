import type { GatewayConfig } from "../config/schema";
import type { BatchEndpoint } from "../files/batch-lines";
import { openFileContent, requireFile } from "../files/store";
import { GatewayError } from "../lib/errors";
import type { KeyRecord } from "../policy/keys";
import { nativeRefusal, planBatch } from "./input";
import { COMPLETION_WINDOW_SECONDS, type BatchRecord } from "./schema";
import { insertBatch, newBatchId } from "./store";

/**
 * Creating a batch (POST /v1/batches, POST /v1/messages/batches): the input file must be the workspace's own,
 * with purpose `batch`; every line is checked for the endpoint and the workspace's routes before anything is
 * recorded (src/batches/input.ts). Only then is the batch recorded (`validating`) and its driver woken.
 */

export type CreateBatchInput = {
  api: BatchRecord["api"];
  inputFileId: string;
  endpoint: BatchEndpoint;
  completionWindow: string;
  metadata: Record<string, string> | null;
};

export type BatchCaller = { env: Env; workspaceId: string; config: GatewayConfig; key: KeyRecord };

const refuse = (code: string, message: string, param: string | null = null) => new GatewayError({ status: 400, type: "invalid_request_error", code, param, message });

export async function createBatch(caller: BatchCaller, input: CreateBatchInput): Promise<BatchRecord> {
  const { env, workspaceId, config, key } = caller;
  const file = await requireFile(env, workspaceId, input.inputFileId, { purpose: "batch", param: "input_file_id" });
  const plan = await planBatch(await openFileContent(env, file), input.endpoint, config, key.routes);
  if (plan.mode === "native") {
    const refusal = nativeRefusal(config, plan.target!, input.endpoint);
    if (refusal) {
      throw refuse(
        "batch_unsupported",
        `Route "${plan.route}" runs batches natively, but ${refusal.reason}; give the route "batch": {"mode": "gateway"} to run its lines through the gateway instead.`,
        refusal.param,
      );
    }
  }
  const now = Math.floor(Date.now() / 1000);
  const batch: BatchRecord = {
    id: newBatchId(),
    workspaceId,
    keyId: key.id,
    api: input.api,
    endpoint: input.endpoint,
    mode: plan.mode,
    route: plan.route,
    provider: plan.target?.provider ?? null,
    model: plan.target?.model ?? null,
    inputFileId: file.id,
    completionWindow: input.completionWindow,
    metadata: input.metadata,
    status: "validating",
    total: plan.total,
    completed: 0,
    failed: 0,
    unprocessed: 0,
    outputFileId: null,
    errorFileId: null,
    errors: null,
    usage: null,
    runnerState: null,
    createdAt: now,
    inProgressAt: null,
    expiresAt: now + COMPLETION_WINDOW_SECONDS,
    finalizingAt: null,
    completedAt: null,
    failedAt: null,
    expiredAt: null,
    cancellingAt: null,
    cancelledAt: null,
  };
  await insertBatch(env.USAGE_DB, batch);
  try {
    await env.BATCH_DRIVER.getByName(batch.id).begin({ workspaceId, batchId: batch.id, total: batch.total });
  } catch (error) {
    await env.USAGE_DB.prepare("DELETE FROM batches WHERE workspace_id = ? AND id = ?").bind(workspaceId, batch.id).run();
    throw error;
  }
  return batch;
}
