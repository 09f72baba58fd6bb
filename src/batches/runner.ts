import type { GatewayConfig } from "../config/schema";
import type { DriverStep } from "../lib/poll-schedule";
import type { BatchMode } from "../routing/schema";
import type { LineBook } from "./line-book";
import type { BatchRecord } from "./schema";

/**
 * The seam between a batch's record and whoever runs its lines. A runner is driven by the batch's Durable Object
 * (durable-objects/batch-driver.ts): `start` once, `poll` on every alarm until it answers `done`, `cancel` when
 * the client cancels. A runner moves the batch through its statuses itself (src/batches/store.ts `transition`,
 * compare-and-set) and writes the output and error files through `BatchResults` (src/batches/results.ts), so
 * every mode produces the same records, files and usage events.
 *
 *   validating → in_progress → finalizing → completed
 *        ↘ failed      ↘ cancelling → cancelled      ↘ expired (the completion window passed)
 *
 * `native` relays to the provider's batch API (src/batches/native.ts); `gateway` runs each line through the
 * route's normal pipeline, driven by a Queue (src/batches/gateway.ts), keeping its lines in the driver's storage.
 */

/** `lines`: the batch's line book in its driver's storage (created on first use; only the gateway runner needs it). */
export type RunnerContext = { env: Env; batch: BatchRecord; config: GatewayConfig; lines: () => LineBook };

/** What the driver does next: call `poll` again after `afterMs`, or stop (the batch is final). */
export type RunnerStep = DriverStep;

export interface BatchRunner {
  start(context: RunnerContext): Promise<RunnerStep>;
  poll(context: RunnerContext): Promise<RunnerStep>;
  cancel(context: RunnerContext): Promise<RunnerStep>;
}

export type RunnerRegistry = Partial<Record<BatchMode, BatchRunner>>;
