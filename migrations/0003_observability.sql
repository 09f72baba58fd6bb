-- Observability (issue 16): request metadata and trace context on every event, hourly and daily rollups written
-- by the queue consumer in the transaction that stores the events, and the delete cascade that retention relies on.
-- docs/storage.md describes every column.

ALTER TABLE usage_events ADD COLUMN metadata TEXT;          -- JSON object of string values the client sent (header and body), NULL if none
ALTER TABLE usage_events ADD COLUMN end_user TEXT;          -- OpenAI's `user` / Anthropic's metadata.user_id
ALTER TABLE usage_events ADD COLUMN trace_id TEXT;          -- 32 hex: the incoming traceparent's trace, else derived from the request id
ALTER TABLE usage_events ADD COLUMN parent_span_id TEXT;    -- 16 hex: the incoming traceparent's parent span, NULL without one
ALTER TABLE usage_events ADD COLUMN rollup_dims TEXT NOT NULL DEFAULT '{}';  -- the declared metadata keys' values (rollup dimension)

-- Usage per UTC hour and per combination of dimensions; written with the events (src/usage/rollups.ts) and backfilled below.
CREATE TABLE IF NOT EXISTS usage_rollup_hourly (
  workspace_id TEXT NOT NULL,
  bucket_start INTEGER NOT NULL,        -- ms since the epoch, UTC
  key_id TEXT NOT NULL,                 -- '' for none
  route TEXT NOT NULL,                  -- '' for a direct provider/model request
  provider TEXT NOT NULL,               -- '' when no attempt answered
  model TEXT NOT NULL,
  status INTEGER NOT NULL,
  dims TEXT NOT NULL,                   -- the workspace's declared metadata keys and values: canonical JSON, '{}' for none
  batch_id TEXT NOT NULL DEFAULT '',    -- the provider batch of batch lines (0004's usage_events.batch_id), '' for interactive requests
  requests INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cached_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  cost_usd REAL NOT NULL,               -- sum over priced requests
  priced INTEGER NOT NULL,              -- requests with a cost (the rest are unpriced)
  cache_hits INTEGER NOT NULL,
  saved_tokens INTEGER NOT NULL,
  saved_usd REAL NOT NULL,
  rescued INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  aborted INTEGER NOT NULL,
  estimated INTEGER NOT NULL,
  latency_sum_ms REAL NOT NULL,
  latency_min_ms REAL NOT NULL,
  latency_max_ms REAL NOT NULL,
  lat_00 INTEGER NOT NULL,
  lat_01 INTEGER NOT NULL,
  lat_02 INTEGER NOT NULL,
  lat_03 INTEGER NOT NULL,
  lat_04 INTEGER NOT NULL,
  lat_05 INTEGER NOT NULL,
  lat_06 INTEGER NOT NULL,
  lat_07 INTEGER NOT NULL,
  lat_08 INTEGER NOT NULL,
  lat_09 INTEGER NOT NULL,
  lat_10 INTEGER NOT NULL,
  lat_11 INTEGER NOT NULL,
  lat_12 INTEGER NOT NULL,
  lat_13 INTEGER NOT NULL,
  lat_14 INTEGER NOT NULL,
  lat_15 INTEGER NOT NULL,
  lat_16 INTEGER NOT NULL,
  lat_17 INTEGER NOT NULL,
  lat_18 INTEGER NOT NULL,
  lat_19 INTEGER NOT NULL,
  lat_20 INTEGER NOT NULL,
  lat_21 INTEGER NOT NULL,
  lat_22 INTEGER NOT NULL,
  lat_23 INTEGER NOT NULL,
  lat_24 INTEGER NOT NULL,
  lat_25 INTEGER NOT NULL,
  lat_26 INTEGER NOT NULL,
  lat_27 INTEGER NOT NULL,
  lat_28 INTEGER NOT NULL,
  lat_29 INTEGER NOT NULL,
  lat_30 INTEGER NOT NULL,
  lat_31 INTEGER NOT NULL,
  lat_32 INTEGER NOT NULL,
  lat_33 INTEGER NOT NULL,
  lat_34 INTEGER NOT NULL,
  lat_35 INTEGER NOT NULL,
  lat_36 INTEGER NOT NULL,
  lat_37 INTEGER NOT NULL,
  lat_38 INTEGER NOT NULL,
  lat_39 INTEGER NOT NULL,
  lat_40 INTEGER NOT NULL,
  lat_41 INTEGER NOT NULL,
  lat_42 INTEGER NOT NULL,
  lat_43 INTEGER NOT NULL,
  lat_44 INTEGER NOT NULL,
  lat_45 INTEGER NOT NULL,
  lat_46 INTEGER NOT NULL,
  lat_47 INTEGER NOT NULL,
  lat_48 INTEGER NOT NULL,
  lat_49 INTEGER NOT NULL,
  lat_50 INTEGER NOT NULL,
  lat_51 INTEGER NOT NULL,      -- latency histogram (src/usage/latency-histogram.ts)
  PRIMARY KEY (workspace_id, bucket_start, key_id, route, provider, model, status, dims, batch_id)
) WITHOUT ROWID;

-- The same per UTC day: what long ranges are answered from.
CREATE TABLE IF NOT EXISTS usage_rollup_daily (
  workspace_id TEXT NOT NULL,
  bucket_start INTEGER NOT NULL,        -- ms since the epoch, UTC
  key_id TEXT NOT NULL,                 -- '' for none
  route TEXT NOT NULL,                  -- '' for a direct provider/model request
  provider TEXT NOT NULL,               -- '' when no attempt answered
  model TEXT NOT NULL,
  status INTEGER NOT NULL,
  dims TEXT NOT NULL,                   -- the workspace's declared metadata keys and values: canonical JSON, '{}' for none
  batch_id TEXT NOT NULL DEFAULT '',    -- the provider batch of batch lines (0004's usage_events.batch_id), '' for interactive requests
  requests INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cached_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  cost_usd REAL NOT NULL,               -- sum over priced requests
  priced INTEGER NOT NULL,              -- requests with a cost (the rest are unpriced)
  cache_hits INTEGER NOT NULL,
  saved_tokens INTEGER NOT NULL,
  saved_usd REAL NOT NULL,
  rescued INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  aborted INTEGER NOT NULL,
  estimated INTEGER NOT NULL,
  latency_sum_ms REAL NOT NULL,
  latency_min_ms REAL NOT NULL,
  latency_max_ms REAL NOT NULL,
  lat_00 INTEGER NOT NULL,
  lat_01 INTEGER NOT NULL,
  lat_02 INTEGER NOT NULL,
  lat_03 INTEGER NOT NULL,
  lat_04 INTEGER NOT NULL,
  lat_05 INTEGER NOT NULL,
  lat_06 INTEGER NOT NULL,
  lat_07 INTEGER NOT NULL,
  lat_08 INTEGER NOT NULL,
  lat_09 INTEGER NOT NULL,
  lat_10 INTEGER NOT NULL,
  lat_11 INTEGER NOT NULL,
  lat_12 INTEGER NOT NULL,
  lat_13 INTEGER NOT NULL,
  lat_14 INTEGER NOT NULL,
  lat_15 INTEGER NOT NULL,
  lat_16 INTEGER NOT NULL,
  lat_17 INTEGER NOT NULL,
  lat_18 INTEGER NOT NULL,
  lat_19 INTEGER NOT NULL,
  lat_20 INTEGER NOT NULL,
  lat_21 INTEGER NOT NULL,
  lat_22 INTEGER NOT NULL,
  lat_23 INTEGER NOT NULL,
  lat_24 INTEGER NOT NULL,
  lat_25 INTEGER NOT NULL,
  lat_26 INTEGER NOT NULL,
  lat_27 INTEGER NOT NULL,
  lat_28 INTEGER NOT NULL,
  lat_29 INTEGER NOT NULL,
  lat_30 INTEGER NOT NULL,
  lat_31 INTEGER NOT NULL,
  lat_32 INTEGER NOT NULL,
  lat_33 INTEGER NOT NULL,
  lat_34 INTEGER NOT NULL,
  lat_35 INTEGER NOT NULL,
  lat_36 INTEGER NOT NULL,
  lat_37 INTEGER NOT NULL,
  lat_38 INTEGER NOT NULL,
  lat_39 INTEGER NOT NULL,
  lat_40 INTEGER NOT NULL,
  lat_41 INTEGER NOT NULL,
  lat_42 INTEGER NOT NULL,
  lat_43 INTEGER NOT NULL,
  lat_44 INTEGER NOT NULL,
  lat_45 INTEGER NOT NULL,
  lat_46 INTEGER NOT NULL,
  lat_47 INTEGER NOT NULL,
  lat_48 INTEGER NOT NULL,
  lat_49 INTEGER NOT NULL,
  lat_50 INTEGER NOT NULL,
  lat_51 INTEGER NOT NULL,      -- latency histogram (src/usage/latency-histogram.ts)
  PRIMARY KEY (workspace_id, bucket_start, key_id, route, provider, model, status, dims, batch_id)
) WITHOUT ROWID;

-- A transaction that stores events notes the largest rowid here first, then adds exactly the rows above it to the
-- rollups and removes its note (src/usage/rollups.ts). Empty between transactions.
CREATE TABLE IF NOT EXISTS usage_rollup_marks (
  batch_id TEXT PRIMARY KEY,
  after_rowid INTEGER NOT NULL
);

-- Retention deletes raw events; their logged bodies go with them.
CREATE TRIGGER IF NOT EXISTS usage_events_bodies_cascade AFTER DELETE ON usage_events BEGIN
  DELETE FROM usage_bodies WHERE request_id = OLD.request_id;
END;

-- Events stored before this migration.
INSERT INTO usage_rollup_hourly (workspace_id, bucket_start, key_id, route, provider, model, status, dims, requests, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_usd, priced, cache_hits, saved_tokens, saved_usd, rescued, errors, aborted, estimated, latency_sum_ms, latency_min_ms, latency_max_ms, lat_00, lat_01, lat_02, lat_03, lat_04, lat_05, lat_06, lat_07, lat_08, lat_09, lat_10, lat_11, lat_12, lat_13, lat_14, lat_15, lat_16, lat_17, lat_18, lat_19, lat_20, lat_21, lat_22, lat_23, lat_24, lat_25, lat_26, lat_27, lat_28, lat_29, lat_30, lat_31, lat_32, lat_33, lat_34, lat_35, lat_36, lat_37, lat_38, lat_39, lat_40, lat_41, lat_42, lat_43, lat_44, lat_45, lat_46, lat_47, lat_48, lat_49, lat_50, lat_51)
  SELECT e.workspace_id, e.ts - e.ts % 3600000, COALESCE(e.key_id, ''), COALESCE(e.route, ''), COALESCE(e.provider, ''), COALESCE(e.model, ''), e.status, e.rollup_dims,
    COUNT(*), TOTAL(e.prompt_tokens), TOTAL(e.completion_tokens), TOTAL(e.cached_tokens), TOTAL(e.cache_write_tokens), TOTAL(e.reasoning_tokens), TOTAL(e.cost_usd), COUNT(e.cost_usd), TOTAL(e.cache_status IS 'HIT'), TOTAL(e.saved_tokens), TOTAL(e.saved_usd), TOTAL(e.rescued), TOTAL(e.outcome = 'error'), TOTAL(e.outcome = 'aborted'), TOTAL(e.usage_estimated), TOTAL(e.total_ms),
    MIN(e.total_ms), MAX(e.total_ms), TOTAL(e.bucket = 0), TOTAL(e.bucket = 1), TOTAL(e.bucket = 2), TOTAL(e.bucket = 3), TOTAL(e.bucket = 4), TOTAL(e.bucket = 5), TOTAL(e.bucket = 6), TOTAL(e.bucket = 7), TOTAL(e.bucket = 8), TOTAL(e.bucket = 9), TOTAL(e.bucket = 10), TOTAL(e.bucket = 11), TOTAL(e.bucket = 12), TOTAL(e.bucket = 13), TOTAL(e.bucket = 14), TOTAL(e.bucket = 15), TOTAL(e.bucket = 16), TOTAL(e.bucket = 17), TOTAL(e.bucket = 18), TOTAL(e.bucket = 19), TOTAL(e.bucket = 20), TOTAL(e.bucket = 21), TOTAL(e.bucket = 22), TOTAL(e.bucket = 23), TOTAL(e.bucket = 24), TOTAL(e.bucket = 25), TOTAL(e.bucket = 26), TOTAL(e.bucket = 27), TOTAL(e.bucket = 28), TOTAL(e.bucket = 29), TOTAL(e.bucket = 30), TOTAL(e.bucket = 31), TOTAL(e.bucket = 32), TOTAL(e.bucket = 33), TOTAL(e.bucket = 34), TOTAL(e.bucket = 35), TOTAL(e.bucket = 36), TOTAL(e.bucket = 37), TOTAL(e.bucket = 38), TOTAL(e.bucket = 39), TOTAL(e.bucket = 40), TOTAL(e.bucket = 41), TOTAL(e.bucket = 42), TOTAL(e.bucket = 43), TOTAL(e.bucket = 44), TOTAL(e.bucket = 45), TOTAL(e.bucket = 46), TOTAL(e.bucket = 47), TOTAL(e.bucket = 48), TOTAL(e.bucket = 49), TOTAL(e.bucket = 50), TOTAL(e.bucket = 51)
  FROM (SELECT *, CASE WHEN total_ms < 1 THEN 0 WHEN total_ms < 1.25 THEN 1 WHEN total_ms < 1.6 THEN 2 WHEN total_ms < 2 THEN 3 WHEN total_ms < 2.5 THEN 4 WHEN total_ms < 3.15 THEN 5 WHEN total_ms < 4 THEN 6 WHEN total_ms < 5 THEN 7 WHEN total_ms < 6.3 THEN 8 WHEN total_ms < 8 THEN 9 WHEN total_ms < 10 THEN 10 WHEN total_ms < 12.5 THEN 11 WHEN total_ms < 16 THEN 12 WHEN total_ms < 20 THEN 13 WHEN total_ms < 25 THEN 14 WHEN total_ms < 31.5 THEN 15 WHEN total_ms < 40 THEN 16 WHEN total_ms < 50 THEN 17 WHEN total_ms < 63 THEN 18 WHEN total_ms < 80 THEN 19 WHEN total_ms < 100 THEN 20 WHEN total_ms < 125 THEN 21 WHEN total_ms < 160 THEN 22 WHEN total_ms < 200 THEN 23 WHEN total_ms < 250 THEN 24 WHEN total_ms < 315 THEN 25 WHEN total_ms < 400 THEN 26 WHEN total_ms < 500 THEN 27 WHEN total_ms < 630 THEN 28 WHEN total_ms < 800 THEN 29 WHEN total_ms < 1000 THEN 30 WHEN total_ms < 1250 THEN 31 WHEN total_ms < 1600 THEN 32 WHEN total_ms < 2000 THEN 33 WHEN total_ms < 2500 THEN 34 WHEN total_ms < 3150 THEN 35 WHEN total_ms < 4000 THEN 36 WHEN total_ms < 5000 THEN 37 WHEN total_ms < 6300 THEN 38 WHEN total_ms < 8000 THEN 39 WHEN total_ms < 10000 THEN 40 WHEN total_ms < 12500 THEN 41 WHEN total_ms < 16000 THEN 42 WHEN total_ms < 20000 THEN 43 WHEN total_ms < 25000 THEN 44 WHEN total_ms < 31500 THEN 45 WHEN total_ms < 40000 THEN 46 WHEN total_ms < 50000 THEN 47 WHEN total_ms < 63000 THEN 48 WHEN total_ms < 80000 THEN 49 WHEN total_ms < 100000 THEN 50 ELSE 51 END AS bucket FROM usage_events) AS e
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO usage_rollup_daily (workspace_id, bucket_start, key_id, route, provider, model, status, dims, requests, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_usd, priced, cache_hits, saved_tokens, saved_usd, rescued, errors, aborted, estimated, latency_sum_ms, latency_min_ms, latency_max_ms, lat_00, lat_01, lat_02, lat_03, lat_04, lat_05, lat_06, lat_07, lat_08, lat_09, lat_10, lat_11, lat_12, lat_13, lat_14, lat_15, lat_16, lat_17, lat_18, lat_19, lat_20, lat_21, lat_22, lat_23, lat_24, lat_25, lat_26, lat_27, lat_28, lat_29, lat_30, lat_31, lat_32, lat_33, lat_34, lat_35, lat_36, lat_37, lat_38, lat_39, lat_40, lat_41, lat_42, lat_43, lat_44, lat_45, lat_46, lat_47, lat_48, lat_49, lat_50, lat_51)
  SELECT e.workspace_id, e.ts - e.ts % 86400000, COALESCE(e.key_id, ''), COALESCE(e.route, ''), COALESCE(e.provider, ''), COALESCE(e.model, ''), e.status, e.rollup_dims,
    COUNT(*), TOTAL(e.prompt_tokens), TOTAL(e.completion_tokens), TOTAL(e.cached_tokens), TOTAL(e.cache_write_tokens), TOTAL(e.reasoning_tokens), TOTAL(e.cost_usd), COUNT(e.cost_usd), TOTAL(e.cache_status IS 'HIT'), TOTAL(e.saved_tokens), TOTAL(e.saved_usd), TOTAL(e.rescued), TOTAL(e.outcome = 'error'), TOTAL(e.outcome = 'aborted'), TOTAL(e.usage_estimated), TOTAL(e.total_ms),
    MIN(e.total_ms), MAX(e.total_ms), TOTAL(e.bucket = 0), TOTAL(e.bucket = 1), TOTAL(e.bucket = 2), TOTAL(e.bucket = 3), TOTAL(e.bucket = 4), TOTAL(e.bucket = 5), TOTAL(e.bucket = 6), TOTAL(e.bucket = 7), TOTAL(e.bucket = 8), TOTAL(e.bucket = 9), TOTAL(e.bucket = 10), TOTAL(e.bucket = 11), TOTAL(e.bucket = 12), TOTAL(e.bucket = 13), TOTAL(e.bucket = 14), TOTAL(e.bucket = 15), TOTAL(e.bucket = 16), TOTAL(e.bucket = 17), TOTAL(e.bucket = 18), TOTAL(e.bucket = 19), TOTAL(e.bucket = 20), TOTAL(e.bucket = 21), TOTAL(e.bucket = 22), TOTAL(e.bucket = 23), TOTAL(e.bucket = 24), TOTAL(e.bucket = 25), TOTAL(e.bucket = 26), TOTAL(e.bucket = 27), TOTAL(e.bucket = 28), TOTAL(e.bucket = 29), TOTAL(e.bucket = 30), TOTAL(e.bucket = 31), TOTAL(e.bucket = 32), TOTAL(e.bucket = 33), TOTAL(e.bucket = 34), TOTAL(e.bucket = 35), TOTAL(e.bucket = 36), TOTAL(e.bucket = 37), TOTAL(e.bucket = 38), TOTAL(e.bucket = 39), TOTAL(e.bucket = 40), TOTAL(e.bucket = 41), TOTAL(e.bucket = 42), TOTAL(e.bucket = 43), TOTAL(e.bucket = 44), TOTAL(e.bucket = 45), TOTAL(e.bucket = 46), TOTAL(e.bucket = 47), TOTAL(e.bucket = 48), TOTAL(e.bucket = 49), TOTAL(e.bucket = 50), TOTAL(e.bucket = 51)
  FROM (SELECT *, CASE WHEN total_ms < 1 THEN 0 WHEN total_ms < 1.25 THEN 1 WHEN total_ms < 1.6 THEN 2 WHEN total_ms < 2 THEN 3 WHEN total_ms < 2.5 THEN 4 WHEN total_ms < 3.15 THEN 5 WHEN total_ms < 4 THEN 6 WHEN total_ms < 5 THEN 7 WHEN total_ms < 6.3 THEN 8 WHEN total_ms < 8 THEN 9 WHEN total_ms < 10 THEN 10 WHEN total_ms < 12.5 THEN 11 WHEN total_ms < 16 THEN 12 WHEN total_ms < 20 THEN 13 WHEN total_ms < 25 THEN 14 WHEN total_ms < 31.5 THEN 15 WHEN total_ms < 40 THEN 16 WHEN total_ms < 50 THEN 17 WHEN total_ms < 63 THEN 18 WHEN total_ms < 80 THEN 19 WHEN total_ms < 100 THEN 20 WHEN total_ms < 125 THEN 21 WHEN total_ms < 160 THEN 22 WHEN total_ms < 200 THEN 23 WHEN total_ms < 250 THEN 24 WHEN total_ms < 315 THEN 25 WHEN total_ms < 400 THEN 26 WHEN total_ms < 500 THEN 27 WHEN total_ms < 630 THEN 28 WHEN total_ms < 800 THEN 29 WHEN total_ms < 1000 THEN 30 WHEN total_ms < 1250 THEN 31 WHEN total_ms < 1600 THEN 32 WHEN total_ms < 2000 THEN 33 WHEN total_ms < 2500 THEN 34 WHEN total_ms < 3150 THEN 35 WHEN total_ms < 4000 THEN 36 WHEN total_ms < 5000 THEN 37 WHEN total_ms < 6300 THEN 38 WHEN total_ms < 8000 THEN 39 WHEN total_ms < 10000 THEN 40 WHEN total_ms < 12500 THEN 41 WHEN total_ms < 16000 THEN 42 WHEN total_ms < 20000 THEN 43 WHEN total_ms < 25000 THEN 44 WHEN total_ms < 31500 THEN 45 WHEN total_ms < 40000 THEN 46 WHEN total_ms < 50000 THEN 47 WHEN total_ms < 63000 THEN 48 WHEN total_ms < 80000 THEN 49 WHEN total_ms < 100000 THEN 50 ELSE 51 END AS bucket FROM usage_events) AS e
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
