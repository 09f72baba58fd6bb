import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { anthropicError, messages, type MessagesBody } from "./anthropic";
import { generateContent, googleError, splitModelMethod, type GenerateContentBody } from "./gemini";
import { TEST_SERVICE_ACCOUNT_EMAIL, TEST_SERVICE_ACCOUNT_PUBLIC_KEY } from "./google-test-keys";
import { embeddingOf, type SimulatorContext } from "./openai";
import { countTokens, type Fault } from "./scenarios";
import { mountVertexTuning } from "./vertex-tuning";

/**
 * A Vertex AI simulator: Google's OAuth token endpoint (`POST /token`, the JWT bearer grant) that verifies the
 * assertion as Google does — RS256 signature against the test service account's public key, iss, aud, scope,
 * iat/exp — and issues access tokens; model endpoints under /v1/projects/{p}/locations/{l}/publishers/… that
 * accept only those tokens. Google's models answer as the Gemini simulator does, Anthropic's (rawPredict /
 * streamRawPredict, `anthropic_version: vertex-2023-10-16`, no `model` in the body) as the Anthropic simulator.
 * Every exchange is a recorded request to `/token`, so tests count them per scenario.
 */

const SCOPE = "https://www.googleapis.com/auth/cloud-platform";
const TOKEN_LIFETIME_S = 3599;
const CLOCK_SKEW_S = 60;

const base64UrlBytes = (text: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const base64UrlJSON = (text: string): unknown => JSON.parse(new TextDecoder().decode(base64UrlBytes(text)));

let publicKey: Promise<CryptoKey> | undefined;
const trustedKey = () =>
  (publicKey ??= crypto.subtle.importKey(
    "spki",
    base64UrlBytes(TEST_SERVICE_ACCOUNT_PUBLIC_KEY.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "").replace(/\+/g, "-").replace(/\//g, "_")),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["verify"],
  ));

/** Why Google would refuse this assertion, or undefined when it is valid. */
async function assertionProblem(assertion: string, endpointURL: string): Promise<string | undefined> {
  const segments = assertion.split(".");
  if (segments.length !== 3) return "Invalid JWT: not three segments.";
  const [headerPart, claimsPart, signaturePart] = segments as [string, string, string];
  let header: { alg?: string };
  let claims: { iss?: string; aud?: string; scope?: string; iat?: number; exp?: number };
  try {
    header = base64UrlJSON(headerPart) as typeof header;
    claims = base64UrlJSON(claimsPart) as typeof claims;
  } catch {
    return "Invalid JWT: segments are not base64url JSON.";
  }
  if (header.alg !== "RS256") return "Invalid JWT: alg must be RS256.";
  const valid = await crypto.subtle.verify("RSASSA-PKCS1-v1_5", await trustedKey(), base64UrlBytes(signaturePart), new TextEncoder().encode(`${headerPart}.${claimsPart}`));
  if (!valid) return "Invalid JWT Signature.";
  if (claims.iss !== TEST_SERVICE_ACCOUNT_EMAIL) return "Invalid JWT: unknown issuer.";
  const endpoint = new URL(endpointURL);
  let audience: URL | undefined;
  try {
    audience = new URL(claims.aud ?? "");
  } catch {
    audience = undefined;
  }
  // The simulator is mounted under a prefix (…/s/<scenario>/vertex/token): the audience must be this endpoint.
  if (!audience || audience.host !== endpoint.host || !audience.pathname.endsWith("/vertex/token")) return "Invalid JWT: audience is not the token endpoint.";
  if (!(claims.scope ?? "").split(" ").includes(SCOPE)) return "Invalid JWT: scope must include cloud-platform.";
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.iat !== "number" || typeof claims.exp !== "number") return "Invalid JWT: iat and exp are required.";
  if (claims.iat > now + CLOCK_SKEW_S) return "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
  if (claims.exp <= now || claims.exp - claims.iat > 3600) return "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
  return undefined;
}

const oauthError = (status: number, error: string, description: string) => Response.json({ error, error_description: description }, { status });

function predict(body: { instances?: { content?: string }[]; parameters?: { outputDimensionality?: number } }): Response {
  const instances = body.instances ?? [];
  if (instances.length === 0) return googleError(400, "instances must not be empty");
  return Response.json({
    predictions: instances.map((i) => ({ embeddings: { values: embeddingOf(i.content ?? "", body.parameters?.outputDimensionality ?? 8), statistics: { token_count: countTokens(i.content ?? ""), truncated: false } } })),
    metadata: { billableCharacterCount: instances.reduce((sum, i) => sum + (i.content ?? "").length, 0) },
  });
}

function claude(model: string, method: string, body: MessagesBody & { anthropic_version?: string }, ctx: SimulatorContext): Response {
  if (body.anthropic_version !== "vertex-2023-10-16") return anthropicError(400, "anthropic_version: must be vertex-2023-10-16");
  if (body.model !== undefined) return anthropicError(400, "model: Extra inputs are not permitted (the model is named in the URL)");
  if (method === "streamRawPredict" && body.stream !== true) return anthropicError(400, "stream: streamRawPredict needs stream: true");
  if (method === "rawPredict" && body.stream === true) return anthropicError(400, "stream: use streamRawPredict to stream");
  const { anthropic_version: _version, ...rest } = body;
  return messages({ ...rest, model }, ctx);
}

type PredictionJob = { id: string; name: string; model: string; input: string; outputPrefix: string; state: string; outcome: Fault["batch"]; outputDirectory: string | null; succeeded: number; failed: number };

/**
 * Cloud Storage (resumable uploads, listing, media downloads) and Vertex AI batch prediction jobs for Gemini
 * models: a job advances one state per read (PENDING → RUNNING → SUCCEEDED) and writes predictions.jsonl, each
 * line echoing its `request` (labels included) beside the `response` or a `status` message.
 */
class PredictionBook {
  readonly objects = new Map<string, string>();
  readonly uploads = new Map<string, { bucket: string; name: string; content: string }>();
  readonly jobs = new Map<string, PredictionJob>();

  jobResource(job: PredictionJob) {
    return {
      name: job.name,
      displayName: job.id,
      model: job.model,
      state: job.state,
      ...(job.state === "JOB_STATE_FAILED" ? { error: { code: 3, message: "Batch prediction failed: the input could not be read." } } : {}),
      completionStats: { successfulCount: String(job.succeeded), failedCount: String(job.failed), incompleteCount: "0" },
      ...(job.outputDirectory ? { outputInfo: { gcsOutputDirectory: job.outputDirectory } } : {}),
    };
  }

  async advance(job: PredictionJob): Promise<void> {
    if (job.state === "JOB_STATE_PENDING") {
      job.state = job.outcome === "fail" ? "JOB_STATE_FAILED" : "JOB_STATE_RUNNING";
      return;
    }
    if (job.state !== "JOB_STATE_RUNNING" || job.outcome === "hold") return;
    const model = job.model.split("/").at(-1)!;
    const out: string[] = [];
    for (const [i, text] of (this.objects.get(job.input) ?? "").split("\n").filter((l) => l.trim() !== "").entries()) {
      if (job.outcome === "expire" && i > 0) break;
      const { request } = JSON.parse(text) as { request: GenerateContentBody & { labels?: Record<string, string> } };
      const processed_time = new Date().toISOString();
      if (JSON.stringify(request).includes("[fail]")) {
        job.failed++;
        out.push(JSON.stringify({ status: "Bad Request: Simulated line failure: this request was refused.", processed_time, request }));
        continue;
      }
      const { labels: _labels, ...generate } = request;
      job.succeeded++;
      out.push(JSON.stringify({ status: "", processed_time, request, response: await generateContent(model, generate, false, undefined).json() }));
    }
    const directory = `${job.outputPrefix}/prediction-model-${Date.now()}`;
    this.objects.set(`${directory.slice(5)}/predictions.jsonl`, out.join("\n") + "\n");
    job.outputDirectory = directory;
    job.state = job.outcome === "expire" ? "JOB_STATE_EXPIRED" : "JOB_STATE_SUCCEEDED";
  }
}

export function vertexSimulator() {
  const issued = new Map<string, number>();
  const app = new Hono<{ Bindings: SimulatorContext }>();
  const book = new PredictionBook();
  const authorized = (header: string | undefined) => {
    const expiresAt = header?.startsWith("Bearer ") ? issued.get(header.slice(7)) : undefined;
    return expiresAt !== undefined && expiresAt >= Date.now();
  };
  const storageAuth = createMiddleware(async (c, next) => {
    if (!authorized(c.req.header("authorization"))) return googleError(401, "Anonymous caller does not have storage.objects access.");
    await next();
  });
  app.use("/upload/storage/*", storageAuth);
  app.use("/storage/*", storageAuth);
  app.post("/upload/storage/v1/b/:bucket/o", async (c) => {
    if (c.req.query("uploadType") !== "resumable") return googleError(400, "this simulator takes resumable uploads only");
    const id = Math.random().toString(36).slice(2, 14);
    book.uploads.set(id, { bucket: c.req.param("bucket"), name: c.req.query("name") ?? "", content: "" });
    const url = new URL(c.env.originalUrl);
    url.search = `?upload_id=${id}`;
    return c.body(null, 200, { location: url.toString() });
  });
  app.put("/upload/storage/v1/b/:bucket/o", async (c) => {
    const upload = book.uploads.get(c.req.query("upload_id") ?? "");
    if (!upload) return googleError(404, "No such upload session.");
    const range = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(c.req.header("content-range") ?? "");
    if (!range) return googleError(400, "Invalid Content-Range.");
    const chunk = await c.req.text();
    if (range[1] !== undefined && Number(range[1]) !== new TextEncoder().encode(upload.content).byteLength) return googleError(400, "Chunk does not start at the persisted offset.");
    upload.content += chunk;
    if (range[3] === "*") return c.body(null, 308, { range: `bytes=0-${new TextEncoder().encode(upload.content).byteLength - 1}` });
    book.objects.set(`${upload.bucket}/${upload.name}`, upload.content);
    return c.json({ kind: "storage#object", bucket: upload.bucket, name: upload.name, size: String(new TextEncoder().encode(upload.content).byteLength) });
  });
  app.get("/storage/v1/b/:bucket/o", (c) => {
    const prefix = `${c.req.param("bucket")}/${c.req.query("prefix") ?? ""}`;
    const items = [...book.objects.keys()].filter((key) => key.startsWith(prefix)).map((key) => ({ kind: "storage#object", name: key.slice(c.req.param("bucket").length + 1) }));
    return c.json({ kind: "storage#objects", items });
  });
  app.get("/storage/v1/b/:bucket/o/:object", (c) => {
    const content = book.objects.get(`${c.req.param("bucket")}/${decodeURIComponent(c.req.param("object"))}`);
    if (content === undefined || c.req.query("alt") !== "media") return googleError(404, "No such object.");
    return c.body(content, 200, { "content-type": "application/octet-stream" });
  });

  app.post("/token", async (c) => {
    const fault = c.env.fault;
    if (fault?.status) return oauthError(fault.status, "internal_failure", fault.message ?? `Simulated error ${fault.status}`);
    const form = new URLSearchParams(await c.req.text());
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return oauthError(400, "unsupported_grant_type", "Invalid grant_type.");
    const problem = await assertionProblem(form.get("assertion") ?? "", c.req.url);
    if (problem) return oauthError(400, "invalid_grant", problem);
    const token = `ya29.sim-${crypto.randomUUID()}`;
    issued.set(token, Date.now() + TOKEN_LIFETIME_S * 1000);
    return c.json({ access_token: token, expires_in: TOKEN_LIFETIME_S, token_type: "Bearer" });
  });

  app.use("/v1/*", async (c, next) => {
    const auth = c.req.header("authorization") ?? "";
    const expiresAt = auth.startsWith("Bearer ") ? issued.get(auth.slice(7)) : undefined;
    if (expiresAt === undefined || expiresAt < Date.now()) {
      return googleError(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
    }
    const fault = c.env.fault;
    if (fault?.status) return googleError(fault.status, fault.message ?? `Simulated error ${fault.status}`, fault.headers);
    await next();
  });

  app.post("/v1/projects/:project/locations/:location/batchPredictionJobs", async (c) => {
    const body = await c.req.json<{ model?: string; inputConfig?: { gcsSource?: { uris?: string[] } }; outputConfig?: { gcsDestination?: { outputUriPrefix?: string } } }>();
    const input = body.inputConfig?.gcsSource?.uris?.[0]?.replace(/^gs:\/\//, "") ?? "";
    if (!book.objects.has(input)) return googleError(400, `Input gs://${input} does not exist.`);
    const id = String(Math.floor(Math.random() * 1e15));
    const job: PredictionJob = {
      id,
      name: `projects/${c.req.param("project")}/locations/${c.req.param("location")}/batchPredictionJobs/${id}`,
      model: body.model ?? "",
      input,
      outputPrefix: body.outputConfig?.gcsDestination?.outputUriPrefix ?? "",
      state: "JOB_STATE_PENDING",
      outcome: c.env.fault?.batch,
      outputDirectory: null,
      succeeded: 0,
      failed: 0,
    };
    book.jobs.set(id, job);
    return c.json(book.jobResource(job));
  });
  app.get("/v1/projects/:project/locations/:location/batchPredictionJobs/:id", async (c) => {
    const job = book.jobs.get(c.req.param("id"));
    if (!job) return googleError(404, "Batch prediction job not found.");
    await book.advance(job);
    return c.json(book.jobResource(job));
  });
  app.post("/v1/projects/:project/locations/:location/batchPredictionJobs/:call", (c) => {
    const { model: id, method } = splitModelMethod(c.req.param("call"));
    const job = book.jobs.get(id);
    if (!job || method !== "cancel") return googleError(404, "Batch prediction job not found.");
    if (["JOB_STATE_PENDING", "JOB_STATE_RUNNING"].includes(job.state)) job.state = "JOB_STATE_CANCELLED";
    return c.json({});
  });

  mountVertexTuning(app, book.objects);

  app.post("/v1/projects/:project/locations/:location/publishers/:publisher/models/:call", async (c) => {
    const { model, method } = splitModelMethod(c.req.param("call"));
    const publisher = c.req.param("publisher");
    if (publisher === "anthropic" && (method === "rawPredict" || method === "streamRawPredict")) return claude(model, method, await c.req.json(), c.env);
    if (publisher === "google") {
      if (method === "generateContent") return generateContent(model, await c.req.json(), false, c.env.fault);
      if (method === "streamGenerateContent" && c.req.query("alt") === "sse") return generateContent(model, await c.req.json(), true, c.env.fault);
      if (method === "predict") return predict(await c.req.json());
    }
    return googleError(404, `Publisher model projects/${c.req.param("project")}/locations/${c.req.param("location")}/publishers/${publisher}/models/${model} does not support ${method}.`);
  });
  return app;
}
