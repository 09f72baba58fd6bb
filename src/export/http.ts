/**
 * One POST to an export endpoint, bounded in time. A non-2xx answer or a network failure throws an
 * ExportFailure (the consumer retries the batch through the Queue); its message carries the status and the
 * start of the answer, with the deployment's secrets cut out, never the request's headers.
 */

/** Long enough for a collector under load; the Queue retries anything slower. */
export const EXPORT_TIMEOUT_MS = 15_000;
const ERROR_EXCERPT_CHARS = 300;

export class ExportFailure extends Error {
  override readonly name = "ExportFailure";
}

const redacted = (text: string, secrets: readonly string[]) => secrets.reduce((out, secret) => out.split(secret).join("[redacted]"), text);

export async function post(url: string, init: { headers: Record<string, string>; body: BodyInit }, secrets: readonly string[]): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", headers: init.headers, body: init.body, signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS) });
  } catch (error) {
    throw new ExportFailure(redacted(`${new URL(url).origin}: ${error instanceof Error ? error.message : String(error)}`, secrets));
  }
  if (!response.ok) {
    const excerpt = (await response.text().catch(() => "")).slice(0, ERROR_EXCERPT_CHARS);
    throw new ExportFailure(redacted(`${new URL(url).origin} answered HTTP ${response.status}: ${excerpt}`, secrets));
  }
  return response;
}
