import type { GuardrailCounts, GuardrailTally } from "../guardrails/tally";
import type { Usage } from "../schema/internal";
import { emptyUsage } from "../schema/internal";
import { costOf, priceOfTarget } from "../usage/pricing";
import type { LoggedBodies } from "./account";
import type { Answer, AnsweringTarget, AttemptRecord, CacheStatus, RequestOutcome, Serving } from "./facts";

/**
 * What a finished request used, cost and how it ended — computed once, by `settleRequest`, and read by
 * everything that runs after the response: the usage event, the limiter's settlement, and any task added later.
 * The usage event and the limiter can therefore never disagree about a request's tokens or cost.
 */
export type SettledRequest = {
  requestId: string;
  eventId: string;
  clientRequestId: string | null;
  startedAtMs: number;
  operation: "chat" | "responses" | "embeddings";
  stream: boolean;
  route: string | null;
  attempts: AttemptRecord[];
  answeredBy: AnsweringTarget | null;
  cacheStatus: CacheStatus | null;
  /** Answered from another identical in-flight request's upstream call. */
  coalesced: boolean;
  /** The tokens accounted to the request: the provider's, or (marked `usageEstimated`) an upper estimate. */
  usage: Usage;
  usageEstimated: boolean;
  /**
   * USD the provider billed for this request at the workspace's prices; null when the model is unpriced. A
   * request that made no provider call of its own — a cache hit, a coalesced follower, no answer — costs 0.
   */
  costUsd: number | null;
  /** Tokens the provider processed for this request: what a tpm window settles to (0 without its own call). */
  billedTokens: number;
  /** Cache hits and coalesced followers: the tokens and USD their answer would have cost (USD null if unpriced). */
  savedTokens: number;
  savedUsd: number | null;
  ttfbMs: number | null;
  totalMs: number;
  overheadMs: number;
  status: number;
  outcome: RequestOutcome;
  errorType: string | null;
  /** A first attempt failed and a later one answered. */
  rescued: boolean;
  bodies: LoggedBodies | undefined;
  /** Per guardrail rule that acted on the request; undefined when none did. */
  guardrails: GuardrailCounts | undefined;
};

export type SettleFacts = {
  requestId: string;
  eventId: string;
  clientRequestId: string | null;
  startedAtMs: number;
  serving: Serving | undefined;
  answer: Answer | undefined;
  guardrails?: GuardrailTally | undefined;
  status: number;
  outcome: RequestOutcome;
  errorType: string | undefined;
  totalMs: number;
  overheadMs: number;
};

/**
 * The usage to account for. Normally the provider's own numbers. Without them — a stream that ended before
 * the provider's final usage (it broke off, or the client left and draining hit its bound), or embeddings from
 * a provider that reports no count — the larger of what was reported and the request's one estimate
 * (src/usage/estimate.ts: the prompt estimate made before the call, the streamed text's estimate after),
 * marked as estimated: an over- rather than an undercount.
 */
function accountedUsage(serving: Serving, answer: Answer | undefined): { usage: Usage; estimated: boolean } {
  const { account } = serving;
  const seen = account.usage;
  const ownCall = answer?.source === "upstream";
  const missing = ownCall && (serving.operation === "embeddings" ? account.usageMissing : serving.stream && !account.finalUsage);
  if (!missing) return { usage: { ...seen }, estimated: false };
  return {
    usage: {
      ...seen,
      promptTokens: Math.max(seen.promptTokens, serving.estimate.promptTokens),
      completionTokens: serving.operation === "embeddings" ? seen.completionTokens : Math.max(seen.completionTokens, account.streamedTokens),
    },
    estimated: true,
  };
}

/** The one place a request's tokens and cost are decided. */
export function settleRequest(facts: SettleFacts): SettledRequest {
  const { serving, answer } = facts;
  const { usage, estimated } = serving ? accountedUsage(serving, answer) : { usage: emptyUsage(), estimated: false };
  const ownCall = answer?.source === "upstream";
  const tokens = usage.promptTokens + usage.completionTokens;
  const fullCost = answer ? costOf(usage, priceOfTarget(serving?.config, answer.target.provider, answer.target.model)) : 0;
  const attempts = serving?.log.attempts.map((a) => ({ ...a, latencyMs: Math.max(0, a.latencyMs) })) ?? [];
  const success = facts.outcome === "success";
  return {
    requestId: facts.requestId,
    eventId: facts.eventId,
    clientRequestId: facts.clientRequestId,
    startedAtMs: facts.startedAtMs,
    operation: serving?.operation ?? "chat",
    stream: serving?.stream ?? false,
    route: serving?.route ?? null,
    attempts,
    answeredBy: answer ? { provider: answer.target.provider, model: answer.target.model } : null,
    cacheStatus: answer?.source === "cache" ? "HIT" : (serving?.cacheStatus ?? null),
    coalesced: answer?.source === "coalesced",
    usage,
    usageEstimated: estimated,
    costUsd: ownCall ? fullCost : 0,
    billedTokens: ownCall ? tokens : 0,
    savedTokens: answer && !ownCall ? tokens : 0,
    savedUsd: answer && !ownCall ? fullCost : null,
    ttfbMs: serving?.account.firstByteMs ?? (success ? facts.totalMs : null),
    totalMs: Math.max(0, facts.totalMs),
    overheadMs: Math.max(0, facts.overheadMs),
    status: facts.status,
    outcome: facts.outcome,
    errorType: facts.errorType ?? null,
    rescued: success && attempts.length > 1 && attempts[0]!.outcome !== "success",
    bodies: serving?.account.bodies,
    guardrails: facts.guardrails && !facts.guardrails.empty ? facts.guardrails.toJSON() : undefined,
  };
}
