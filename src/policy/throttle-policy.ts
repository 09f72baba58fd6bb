/**
 * The rule for failed admin authentications, pure so the Durable Object and tests share it: at most
 * `maxFailures` failures per client address in any `windowMs`; past that, every attempt is refused (429) without
 * looking at the token, until enough failures have aged out of the window.
 */
export const AUTH_THROTTLE_POLICY = { maxFailures: 10, windowMs: 15 * 60_000 } as const;

export type ThrottleState = {
  /** Failures in the window. */
  failures: number;
  /** No further attempt is evaluated until `retryAfterMs` has passed. */
  blocked: boolean;
  /** The failure that was just recorded is itself past the limit (so its answer is 429, not 401). */
  overLimit: boolean;
  retryAfterMs: number;
};

/** The state of an address from its failure times in the window (oldest first). */
export function throttleState(failures: readonly number[], now: number, policy = AUTH_THROTTLE_POLICY): ThrottleState {
  const count = failures.length;
  if (count < policy.maxFailures) return { failures: count, blocked: false, overLimit: false, retryAfterMs: 0 };
  // Attempts are allowed again once fewer than maxFailures remain: when the failure at index count - max ages out.
  const freedAt = failures[count - policy.maxFailures]! + policy.windowMs;
  return { failures: count, blocked: true, overLimit: count > policy.maxFailures, retryAfterMs: Math.max(1_000, freedAt - now) };
}
