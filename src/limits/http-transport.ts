import * as z from "zod";
import { CONTROL_API_PREFIX } from "../hybrid/protocol";
import { ExchangeResponseSchema, type ExchangeRequest, type ExchangeResponse } from "./protocol";
import type { LeaseTransport } from "./transport";

/** The body of `POST /control/v1/lease`: one exchange with the named KeyLimiter on the control plane. */
export const LeaseCallSchema = z.strictObject({ limiter: z.string().regex(/^(?:ws|key):[\w.-]{1,128}$/), request: z.unknown() });
export type LeaseCall = z.infer<typeof LeaseCallSchema>;

/**
 * An exchange that does not answer within this is treated as failed: the lease book keeps its reports and the
 * data plane admits from its offline allowance (src/limits/offline-allowance.ts) instead of holding the request.
 */
export const LEASE_CALL_TIMEOUT_MS = 5_000;

/**
 * A hybrid data plane's lease transport (docs/hybrid.md): each exchange is one HTTPS call to the control plane's
 * `/control/v1/lease`, authenticated by the node token, so every node's leases come from the same KeyLimiter and
 * limits are counted centrally. The control plane prefixes the holder with the node's token id and strips `now`.
 * Any failure (network, timeout, non-2xx, an answer outside the schema) rejects, as the LeaseTransport contract asks.
 */
export class HttpLeaseTransport implements LeaseTransport {
  readonly #url: string;
  readonly #token: string;

  constructor(controlPlane: string, nodeToken: string) {
    this.#url = new URL(`${CONTROL_API_PREFIX}/lease`, controlPlane).toString();
    this.#token = nodeToken;
  }

  async exchange(limiter: string, request: ExchangeRequest): Promise<ExchangeResponse> {
    const { now: _now, ...sent } = request;
    const response = await fetch(this.#url, {
      method: "POST",
      headers: { authorization: `Bearer ${this.#token}`, "content-type": "application/json" },
      body: JSON.stringify({ limiter, request: sent } satisfies LeaseCall),
      signal: AbortSignal.timeout(LEASE_CALL_TIMEOUT_MS),
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`control plane lease exchange: HTTP ${response.status}`);
    }
    return ExchangeResponseSchema.parse(await response.json());
  }
}
