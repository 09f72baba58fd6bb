import type { ConversationResult, ResponseStore } from "../../durable-objects/response-store";
import type { GatewayConfig } from "../config/schema";
import { GatewayError, badRequest, notFound } from "../lib/errors";
import { randomId } from "../lib/ids";
import { RESPONSE_ID, StoredItemSchema, type ListInputItemsQuery, type StoredItem } from "../schema/openai-responses";

/**
 * Stored responses of the Responses API, per workspace (durable-objects/response-store.ts; docs/storage.md).
 * A response id names its shard (`resp_<2 hex><40 characters>`): a new conversation picks one at random, a
 * continuation keeps its predecessor's, so a conversation lives in one Durable Object. Every call names the
 * caller's workspace, so another workspace's id is simply not found.
 */

/** Shards per workspace: each is one Durable Object, so a workspace's writes spread over this many. */
export const RESPONSE_STORE_SHARDS = 16;

/** OpenAI keeps stored responses 30 days. */
export const DEFAULT_RETENTION_DAYS = 30;

const DAY_MS = 86_400_000;

export const retentionDaysOf = (config: GatewayConfig): number => config.responses?.retentionDays ?? DEFAULT_RETENTION_DAYS;

const shardOf = (id: string): string | undefined => (RESPONSE_ID.test(id) ? id.slice(5, 7) : undefined);

/** A new response id: in its predecessor's shard when it continues one, else in a random shard. */
export function newResponseId(previousId?: string): string {
  const shard = (previousId && shardOf(previousId)) ?? (crypto.getRandomValues(new Uint8Array(1))[0]! % RESPONSE_STORE_SHARDS).toString(16).padStart(2, "0");
  return randomId(`resp_${shard}`, 40);
}

const responseNotFound = (id: string) => notFound(`Response with id '${id}' not found.`, "response_not_found");

/** A `previous_response_id` this workspace cannot continue from: 404, naming the field. */
const previousNotFound = (message: string) => new GatewayError({ status: 404, type: "invalid_request_error", code: "previous_response_not_found", param: "previous_response_id", message });

function parseItems(items: readonly string[]): StoredItem[] {
  return items.map((json) => StoredItemSchema.parse(JSON.parse(json)));
}

export type StoredResponse = { response: Record<string, unknown>; output: StoredItem[] };

export class StoredResponses {
  readonly #env: Env;
  readonly #workspaceId: string;

  constructor(env: Env, workspaceId: string) {
    this.#env = env;
    this.#workspaceId = workspaceId;
  }

  #shard(id: string): DurableObjectStub<ResponseStore> | undefined {
    const shard = shardOf(id);
    return shard === undefined ? undefined : this.#env.RESPONSE_STORE.getByName(`${this.#workspaceId}:${shard}`);
  }

  /** Stores a response: the object (its output apart, item by item) and the input items it was given. */
  async put(entry: { id: string; response: Record<string, unknown>; input: StoredItem[]; output: StoredItem[]; previousId: string | null; keyId: string | null; retentionDays: number }): Promise<void> {
    const stub = this.#shard(entry.id);
    if (!stub) throw new Error(`not a response id: ${entry.id}`);
    const createdAt = Date.now();
    const { output: _output, ...response } = entry.response;
    await stub.put({
      id: entry.id,
      response: JSON.stringify(response),
      input: entry.input.map((item) => ({ id: item.id, json: JSON.stringify(item) })),
      output: entry.output.map((item) => ({ id: item.id, json: JSON.stringify(item) })),
      previousId: entry.previousId,
      keyId: entry.keyId,
      createdAt,
      expiresAt: createdAt + entry.retentionDays * DAY_MS,
    });
  }

  /** The stored Response object; 404 when there is none in this workspace (or it expired). */
  async get(id: string): Promise<Record<string, unknown>> {
    const stored = await this.#shard(id)?.get(id);
    if (!stored) throw responseNotFound(id);
    const response: unknown = JSON.parse(stored.response);
    if (typeof response !== "object" || response === null) throw responseNotFound(id);
    return { ...response, output: parseItems(stored.output) };
  }

  /** The conversation a request continues (every earlier item, oldest first); 404 when `id` is not this workspace's. */
  async conversation(id: string): Promise<StoredItem[]> {
    const stub = this.#shard(id);
    const result: ConversationResult = stub ? await stub.conversation(id) : { ok: false, reason: "not_found" };
    if (result.ok) return parseItems(result.items);
    if (result.reason === "not_found") throw previousNotFound(`Previous response with id '${id}' not found.`);
    if (result.reason === "broken") throw previousNotFound(`An earlier response of this conversation ('${result.missingId}') no longer exists, so it cannot be continued.`);
    throw badRequest("This conversation is too large to continue through previous_response_id; send the items you want to keep as input.", "previous_response_id", "conversation_too_large");
  }

  async delete(id: string): Promise<void> {
    if (!(await this.#shard(id)?.delete(id))) throw responseNotFound(id);
  }

  async inputItems(id: string, query: ListInputItemsQuery): Promise<{ data: StoredItem[]; firstId: string | null; lastId: string | null; hasMore: boolean }> {
    const page = await this.#shard(id)?.inputItems(id, { limit: query.limit, order: query.order, ...(query.after ? { after: query.after } : {}), ...(query.before ? { before: query.before } : {}) });
    if (!page) throw responseNotFound(id);
    return { data: parseItems(page.items), firstId: page.ids[0] ?? null, lastId: page.ids.at(-1) ?? null, hasMore: page.hasMore };
  }

  /** Every shard of the workspace forgets everything (the workspace was deleted). */
  async forgetAll(): Promise<void> {
    await Promise.all(Array.from({ length: RESPONSE_STORE_SHARDS }, (_, shard) => this.#env.RESPONSE_STORE.getByName(`${this.#workspaceId}:${shard.toString(16).padStart(2, "0")}`).forget()));
  }
}
