import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The benchmark's upstream: a lean, fixed-latency OpenAI-compatible server on bare node:http (no framework, no
 * validation), so the figures measure the gateways and not the simulator. Run as its own process:
 * `tsx scripts/bench/upstream.ts --port 0 --latency-ms 5` prints `listening <port>` when ready.
 *
 * - POST …/chat/completions → a fixed completion with usage, after `latency-ms`; with `"stream": true` an SSE
 *   stream whose first chunk comes after `latency-ms` and then `chunks` more every `chunk-gap-ms`.
 * - GET …/models → a model list.
 */
export type UpstreamOptions = { latencyMs: number; chunks: number; chunkGapMs: number };

const COMPLETION = {
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "gpt-4o-mini",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello from the benchmark upstream." }, finish_reason: "stop", logprobs: null }],
  usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
};
const COMPLETION_BODY = JSON.stringify(COMPLETION);
const MODELS_BODY = JSON.stringify({ object: "list", data: [{ id: "gpt-4o-mini", object: "model", created: 0, owned_by: "bench" }] });

const chunk = (delta: Record<string, unknown>, finish: string | null, usage: unknown = null) =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1_700_000_000, model: "gpt-4o-mini", choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }], usage })}\n\n`;

const after = (ms: number, fn: () => void) => (ms > 0 ? setTimeout(fn, ms) : setImmediate(fn));

function readBody(req: IncomingMessage, done: (body: string) => void): void {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (part: string) => (body += part));
  req.on("end", () => done(body));
}

function stream(res: ServerResponse, options: UpstreamOptions): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  let sent = 0;
  const next = () => {
    if (res.destroyed) return;
    if (sent === 0) res.write(chunk({ role: "assistant", content: "" }, null));
    else if (sent <= options.chunks) res.write(chunk({ content: `token${sent} ` }, null));
    else {
      res.end(chunk({}, "stop") + chunk({}, null, { prompt_tokens: 12, completion_tokens: options.chunks, total_tokens: 12 + options.chunks }) + "data: [DONE]\n\n");
      return;
    }
    sent++;
    after(options.chunkGapMs, next);
  };
  next();
}

export function startUpstream(port: number, options: UpstreamOptions): Promise<number> {
  const server = createServer((req, res) => {
    const url = req.url ?? "/";
    if (req.method === "GET" && url.endsWith("/models")) {
      res.writeHead(200, { "content-type": "application/json" }).end(MODELS_BODY);
      return;
    }
    if (req.method !== "POST" || !url.endsWith("/chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"not found","type":"invalid_request_error"}}');
      return;
    }
    readBody(req, (body) => {
      // A substring test, not JSON.parse: the simulator must stay cheaper than anything it measures.
      const streaming = /"stream"\s*:\s*true/.test(body);
      after(options.latencyMs, () => {
        if (streaming) stream(res, options);
        else res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(COMPLETION_BODY) }).end(COMPLETION_BODY);
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, fallback: number) => {
    const index = process.argv.indexOf(`--${name}`);
    return index >= 0 ? Number(process.argv[index + 1]) : fallback;
  };
  const port = await startUpstream(arg("port", 0), { latencyMs: arg("latency-ms", 5), chunks: arg("chunks", 5), chunkGapMs: arg("chunk-gap-ms", 1) });
  console.log(`listening ${port}`);
}
