import type * as z from "zod";
import { GatewayError } from "../lib/errors";

/**
 * What every adapter's HTTP side shares: the JSON POST it builds and the error for an upstream answer it cannot
 * read. Base URLs arrive normalised (no trailing slash) from the config schema, so adapters append paths as-is.
 */

export const jsonRequest = (url: string, headers: Record<string, string>, body: unknown): Request =>
  new Request(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

/** A 2xx answer (or a stream event) the adapter cannot read: the provider broke its own format. */
export function invalidUpstream(provider: string, detail: string): GatewayError {
  return new GatewayError({ status: 502, type: "upstream_error", code: "invalid_upstream_response", provider, message: `${provider}: invalid response from upstream (${detail})` });
}

/** A stream event's data as JSON; anything else means the provider broke its own stream format. */
export function streamEventJson(data: string, provider: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw invalidUpstream(provider, "a stream event is not JSON");
  }
}

/**
 * The message for an error answer whose body is not in the provider's documented error shape: an HTML page, a
 * proxy's or load balancer's text, an internal service's JSON. Its text is never passed on (it may describe the
 * inside of a network, or be the answer of something the provider's URL should not have reached); the client
 * learns the status only.
 */
export const unreadableErrorMessage = (status: number): string => `an error without a message in the provider's format (HTTP ${status}; its body is not shown)`;

/** A 2xx answer's JSON body, checked against `schema`; anything else is the provider breaking its format. */
export async function readJson<S extends z.ZodType>(response: Response, schema: S, provider: string, what: string): Promise<z.infer<S>> {
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw invalidUpstream(provider, `unexpected ${what}`);
  return parsed.data;
}
