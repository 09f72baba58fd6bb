/** The OpenAI error shape every non-Anthropic response uses. */
export type OpenAIErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

export type GatewayErrorInit = {
  status: number;
  message: string;
  type?: string;
  code?: string | null;
  param?: string | null;
  /** The provider whose failure this is, when an upstream failed. */
  provider?: string;
  headers?: Record<string, string>;
};

const defaultTypeForStatus = (status: number): string => {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
};

/**
 * The one error family of the gateway. Anything thrown as a GatewayError is rendered by `app.onError` in the
 * client's dialect; anything else becomes a generic 500 without details.
 */
export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly provider: string | undefined;
  readonly headers: Record<string, string>;

  constructor(init: GatewayErrorInit) {
    super(init.message);
    this.name = "GatewayError";
    this.status = init.status;
    this.type = init.type ?? defaultTypeForStatus(init.status);
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.provider = init.provider;
    this.headers = init.headers ?? {};
  }

  toOpenAI(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  toAnthropic(): { type: "error"; error: { type: string; message: string } } {
    return { type: "error", error: { type: anthropicErrorType(this.status, this.type), message: this.message } };
  }

  /** The body in the client's dialect (src/schema/internal.ts `ClientDialect`): Anthropic's shape or OpenAI's. */
  bodyFor(dialect: "openai" | "anthropic"): unknown {
    return dialect === "anthropic" ? this.toAnthropic() : this.toOpenAI();
  }
}

function anthropicErrorType(status: number, type: string): string {
  if (type === "budget_exceeded" || type === "rate_limit_error" || status === 429) return "rate_limit_error";
  if (status === 400 || status === 415 || status === 405 || status === 422) return "invalid_request_error";
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 529) return "overloaded_error";
  if (status === 504) return "timeout_error";
  return "api_error";
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError({ status: 400, message, param, code, type: "invalid_request_error" });

export const notFound = (message: string, code: string | null = null) => new GatewayError({ status: 404, message, code, type: "invalid_request_error" });

export const unauthorized = (message: string) => new GatewayError({ status: 401, message, type: "invalid_request_error", code: "invalid_api_key" });
