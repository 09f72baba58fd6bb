import type { KeyLimiter } from "../../durable-objects/key-limiter";
import type { ExchangeRequest, ExchangeResponse } from "./protocol";

/**
 * How a lease book (src/limits/lease-book.ts) reaches its limiters: one exchange is one request and one response,
 * both plain JSON described by zod schemas (src/limits/protocol.ts). Today the transport is the Durable Object
 * stub below; a self-hosted data plane can implement it as an HTTP client to the control plane, whose handler
 * passes the body to the same `KeyLimiter.exchange`. The contract an implementation keeps:
 *
 * - `limiter` names the KeyLimiter instance (`key:<keyId>` or `ws:<workspaceId>`, from src/policy/limits.ts);
 *   `request` is sent as is and the answer returned as is. The book sends a holder's reports to one limiter one
 *   exchange at a time and numbers settlement batches, so a transport needs no ordering or dedup of its own.
 * - A failed exchange rejects (any error). The book then keeps its reports and sends them again, and a request
 *   waiting on that exchange is answered 503 `limiter_unavailable`. Resending an identical request is safe for
 *   the limits (a close applies once, a settlement once per number; a second grant the book never sees is
 *   stranded until it expires, counted as used), but costs units, so a transport should retry only when the
 *   request surely did not land.
 * - `request.holder` identifies the instance holding the leases (`isolate:<uuid>`, `node:<id>`): stable for the
 *   instance's life and unique. The limiter accepts reports on a lease only from the holder it granted it to, so
 *   an HTTP server must derive or check the holder from the node's credentials, never trust the body alone.
 * - `request.now` is for tests only (time injected); a server reached over the network must strip it.
 * - Lease timing is measured by the book on its own clock (a lease runs from when it was asked for) and renewals
 *   start at least two observed round trips early, so a slower transport gets earlier renewals, not late ones.
 */
export interface LeaseTransport {
  exchange(limiter: string, request: ExchangeRequest): Promise<ExchangeResponse>;
}

/** Exchanges as RPC calls on the KeyLimiter Durable Object named `limiter`. */
export class DurableObjectLeaseTransport implements LeaseTransport {
  readonly #namespace: DurableObjectNamespace<KeyLimiter>;

  constructor(namespace: DurableObjectNamespace<KeyLimiter>) {
    this.#namespace = namespace;
  }

  async exchange(limiter: string, request: ExchangeRequest): Promise<ExchangeResponse> {
    return this.#namespace.getByName(limiter).exchange(request);
  }
}
