import { GatewayError } from "../lib/errors";
import { TtlCache } from "../lib/ttl-cache";
import { addressBucket, clientAddress } from "./client-address";
import { AUTH_THROTTLE_POLICY, type ThrottleState } from "./throttle-policy";

/**
 * Throttling failed admin authentications per client address, kept in the AuthThrottle Durable Object
 * (durable-objects/auth-throttle.ts) so every isolate and location shares one count. The cost is paid by failures:
 *
 * - a failure waits for one RPC that records it (and learns whether the address is now blocked);
 * - an address known to be blocked is refused from isolate memory, its token not even looked at;
 * - a success asks the object once per address per isolate (`CLEARED_TTL_MS`) whether the address is blocked —
 *   without that, a blocked guesser could still test guesses in isolates that have not seen it fail — and then
 *   never again while it keeps succeeding: steady admin traffic makes no Durable Object call.
 *
 * Surfaces count apart (`admin` for /admin/*, `v1` for admin credentials presented on /v1/*), so a client
 * sending garbage keys to /v1 from behind the admins' NAT cannot lock them out of the admin API.
 */

export type AuthSurface = "admin" | "v1";

/** How long a success from an address lets later successes in this isolate skip the Durable Object. */
const CLEARED_TTL_MS = 60_000;

const blockedUntil = new TtlCache<number>({ ttlMs: AUTH_THROTTLE_POLICY.windowMs, maxEntries: 10_000 });
const cleared = new TtlCache<true>({ ttlMs: CLEARED_TTL_MS, maxEntries: 10_000 });

export const throttleName = (surface: AuthSurface, headers: Headers): string => `${surface}|${addressBucket(clientAddress(headers))}`;

function tooManyFailures(retryAfterMs: number): GatewayError {
  const seconds = Math.ceil(retryAfterMs / 1_000);
  return new GatewayError({
    status: 429,
    type: "rate_limit_error",
    code: "too_many_failed_authentications",
    message: `Too many failed admin authentications from this address; try again in ${seconds} s.`,
    headers: { "retry-after": String(seconds) },
  });
}

function remember(name: string, state: ThrottleState, now: number): void {
  if (state.blocked) {
    blockedUntil.set(name, now + state.retryAfterMs, state.retryAfterMs);
    cleared.delete(name);
  }
}

/**
 * Runs `authenticate` (which throws a GatewayError when the credential is refused) under the throttle of the
 * request's address on `surface`: refused credentials are counted, and a blocked address gets 429 with
 * Retry-After whatever it presents.
 */
export async function throttledAuthentication<T>(env: Env, headers: Headers, surface: AuthSurface, authenticate: () => Promise<T>): Promise<T> {
  const name = throttleName(surface, headers);
  const until = blockedUntil.get(name);
  if (until !== undefined && until > Date.now()) throw tooManyFailures(until - Date.now());

  let result: T;
  try {
    result = await authenticate();
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    const state = await env.AUTH_THROTTLE.getByName(name).recordFailure();
    remember(name, state, Date.now());
    throw state.overLimit ? tooManyFailures(state.retryAfterMs) : error;
  }

  if (cleared.get(name) === undefined) {
    const state = await env.AUTH_THROTTLE.getByName(name).check();
    remember(name, state, Date.now());
    if (state.blocked) throw tooManyFailures(state.retryAfterMs);
    cleared.set(name, true);
  }
  return result;
}
