import { RATE_WINDOW_MS, type ScopeLimits } from "./protocol";

/**
 * What a hybrid data plane admits on its own while its control plane's limiters cannot be reached
 * (docs/hybrid.md): per limited scope, a fraction of each limit — `rpm × f` requests and `tpm × f` tokens per
 * minute, `usd × f` of a budget for the whole outage — counted in this isolate, or nothing (`refuse`: 503
 * `limiter_unavailable`, as a standalone gateway answers). Set by the SWITCHYARD_OFFLINE_ALLOWANCE var: a number in
 * [0, 1] (default 0.1) or `refuse`. The counters start again when an exchange succeeds.
 */

export const DEFAULT_OFFLINE_FRACTION = 0.1;

export function offlineFractionOf(setting: string | undefined): number {
  if (setting === undefined || setting.trim() === "") return DEFAULT_OFFLINE_FRACTION;
  if (setting.trim() === "refuse") return 0;
  const value = Number(setting);
  return Number.isFinite(value) && value >= 0 && value <= 1 ? value : DEFAULT_OFFLINE_FRACTION;
}

type ScopeUse = { windowStart: number; requests: number; tokens: number; usd: number };

export class OfflineAllowance {
  readonly #used = new Map<string, ScopeUse>();

  /** Admits one request of `needs` under every scope's allowance, or returns false (nothing is counted then). */
  admit(limiter: string, scopes: readonly ScopeLimits[], needs: { tokens: number; usd: number }, fraction: number, now = Date.now()): boolean {
    if (fraction <= 0) return false;
    const uses = scopes.map((scope) => {
      const name = `${limiter}|${scope.scope}`;
      let use = this.#used.get(name);
      if (!use) this.#used.set(name, (use = { windowStart: now, requests: 0, tokens: 0, usd: 0 }));
      if (now - use.windowStart >= RATE_WINDOW_MS) Object.assign(use, { windowStart: now, requests: 0, tokens: 0 });
      return { scope, use };
    });
    const fits = uses.every(({ scope, use }) =>
      (scope.rpm === undefined || use.requests + 1 <= Math.floor(scope.rpm * fraction)) &&
      (scope.tpm === undefined || use.tokens + needs.tokens <= Math.floor(scope.tpm * fraction)) &&
      (scope.budget === undefined || use.usd + needs.usd <= scope.budget.usd * fraction),
    );
    if (!fits) return false;
    for (const { use } of uses) {
      use.requests += 1;
      use.tokens += needs.tokens;
      use.usd += needs.usd;
    }
    return true;
  }

  /** The control plane answered again: the next outage starts with a full allowance. */
  reset(): void {
    this.#used.clear();
  }
}
