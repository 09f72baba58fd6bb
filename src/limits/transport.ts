import type { KeyLimiter } from "../../durable-objects/key-limiter";
import type { ExchangeRequest, ExchangeResponse } from "./protocol";

/**
 * How a lease book reaches its limiters: one exchange is one request and one response (src/limits/protocol.ts).
 * Today the transport is the Durable Object stub; a self-hosted data plane will use an HTTP client to the
 * control plane's limiters with the same two types.
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
