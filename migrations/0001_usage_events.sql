-- Usage events: one row per /v1 request, written by the queue consumer (src/usage/consumer.ts).
-- request_id is the primary key: a redelivered event is ignored (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE IF NOT EXISTS usage_events (
  request_id TEXT PRIMARY KEY,           -- the gateway's own id for the request, unique
  client_request_id TEXT,               -- the x-request-id the client sent, if any
  ts INTEGER NOT NULL,                  -- request start, ms since the epoch
  day TEXT NOT NULL,                    -- YYYY-MM-DD (UTC) of ts, for groupBy=day
  workspace_id TEXT NOT NULL,
  key_id TEXT,
  route TEXT,                           -- the route name, NULL for a direct provider/model
  operation TEXT NOT NULL,              -- chat | embeddings
  provider TEXT,                        -- the answering target's provider (config name), NULL if none answered
  model TEXT,
  attempts TEXT NOT NULL,               -- JSON array: [{ provider, model, status, outcome, latencyMs, errorClass? }]
  attempt_count INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cached_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  usage_estimated INTEGER NOT NULL,     -- 1: a stream ended without the provider's final usage; tokens are an upper estimate
  cost_usd REAL,                        -- NULL: the model is unpriced (never stored as 0)
  cache_status TEXT,                    -- HIT | MISS | REFRESH | BYPASS | NULL (cache not enabled)
  saved_tokens INTEGER NOT NULL,        -- on a cache HIT: the tokens the provider was not asked for
  saved_usd REAL,                       -- on a cache HIT: what the request would have cost
  coalesced INTEGER NOT NULL,
  stream INTEGER NOT NULL,
  ttfb_ms REAL,
  total_ms REAL NOT NULL,
  overhead_ms REAL NOT NULL,
  status INTEGER NOT NULL,
  outcome TEXT NOT NULL,                -- success | error | aborted
  error_type TEXT,
  rescued INTEGER NOT NULL,             -- a first attempt failed and a later one answered
  delivery_attempts INTEGER NOT NULL    -- the Queue delivery that wrote the row (1 = first try)
);
CREATE INDEX IF NOT EXISTS usage_events_workspace_ts ON usage_events (workspace_id, ts);
CREATE INDEX IF NOT EXISTS usage_events_workspace_key_ts ON usage_events (workspace_id, key_id, ts);

-- Prompt and completion text, only for workspaces with `logging.bodies: true`; each capped (see src/usage/bodies.ts).
CREATE TABLE IF NOT EXISTS usage_bodies (
  request_id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  request TEXT NOT NULL,
  response TEXT NOT NULL,
  truncated INTEGER NOT NULL
);
