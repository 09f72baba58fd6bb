-- Observability (issue 16): request metadata and trace context on every event, hourly and daily rollups kept
-- by triggers as the queue consumer inserts events, and the delete cascade that raw-event retention relies on.
-- docs/storage.md describes every column.

ALTER TABLE usage_events ADD COLUMN metadata TEXT;          -- JSON object of string values the client sent (header and body), NULL if none
ALTER TABLE usage_events ADD COLUMN end_user TEXT;          -- OpenAI's `user` / Anthropic's metadata.user_id
ALTER TABLE usage_events ADD COLUMN trace_id TEXT;          -- 32 hex: the incoming traceparent's trace, else derived from the request id
ALTER TABLE usage_events ADD COLUMN parent_span_id TEXT;    -- 16 hex: the incoming traceparent's parent span, NULL without one
ALTER TABLE usage_events ADD COLUMN rollup_dims TEXT NOT NULL DEFAULT '{}';  -- the declared metadata keys' values (rollup dimension)

-- Usage per UTC hour and per combination of dimensions; written only by the trigger below (and the backfill).
CREATE TABLE IF NOT EXISTS usage_rollup_hourly (
  workspace_id TEXT NOT NULL,
  bucket_start INTEGER NOT NULL,        -- ms since the epoch, UTC
  key_id TEXT NOT NULL,                 -- '' for none
  route TEXT NOT NULL,                  -- '' for a direct provider/model request
  provider TEXT NOT NULL,               -- '' when no attempt answered
  model TEXT NOT NULL,
  status INTEGER NOT NULL,
  dims TEXT NOT NULL,                   -- the workspace's declared metadata keys and values: canonical JSON, '{}' for none
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
  PRIMARY KEY (workspace_id, bucket_start, key_id, route, provider, model, status, dims)
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
  PRIMARY KEY (workspace_id, bucket_start, key_id, route, provider, model, status, dims)
) WITHOUT ROWID;

-- A row that is really inserted (not a redelivered one: ON CONFLICT DO NOTHING fires no trigger) adds itself to both
-- rollups in the same transaction, so rollups are exact and written exactly once.
CREATE TRIGGER IF NOT EXISTS usage_events_rollup AFTER INSERT ON usage_events BEGIN
  INSERT INTO usage_rollup_hourly (workspace_id, bucket_start, key_id, route, provider, model, status, dims, requests, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_usd, priced, cache_hits, saved_tokens, saved_usd, rescued, errors, aborted, estimated, latency_sum_ms, latency_min_ms, latency_max_ms, lat_00, lat_01, lat_02, lat_03, lat_04, lat_05, lat_06, lat_07, lat_08, lat_09, lat_10, lat_11, lat_12, lat_13, lat_14, lat_15, lat_16, lat_17, lat_18, lat_19, lat_20, lat_21, lat_22, lat_23, lat_24, lat_25, lat_26, lat_27, lat_28, lat_29, lat_30, lat_31, lat_32, lat_33, lat_34, lat_35, lat_36, lat_37, lat_38, lat_39, lat_40, lat_41, lat_42, lat_43, lat_44, lat_45, lat_46, lat_47, lat_48, lat_49, lat_50, lat_51)
    SELECT NEW.workspace_id, NEW.ts - NEW.ts % 3600000, COALESCE(NEW.key_id, ''), COALESCE(NEW.route, ''), COALESCE(NEW.provider, ''), COALESCE(NEW.model, ''), NEW.status, NEW.rollup_dims, 1, NEW.prompt_tokens, NEW.completion_tokens, NEW.cached_tokens, NEW.cache_write_tokens, NEW.reasoning_tokens, COALESCE(NEW.cost_usd, 0), NEW.cost_usd IS NOT NULL, NEW.cache_status IS 'HIT', NEW.saved_tokens, COALESCE(NEW.saved_usd, 0), NEW.rescued, NEW.outcome = 'error', NEW.outcome = 'aborted', NEW.usage_estimated, NEW.total_ms, NEW.total_ms, NEW.total_ms, bucket = 0, bucket = 1, bucket = 2, bucket = 3, bucket = 4, bucket = 5, bucket = 6, bucket = 7, bucket = 8, bucket = 9, bucket = 10, bucket = 11, bucket = 12, bucket = 13, bucket = 14, bucket = 15, bucket = 16, bucket = 17, bucket = 18, bucket = 19, bucket = 20, bucket = 21, bucket = 22, bucket = 23, bucket = 24, bucket = 25, bucket = 26, bucket = 27, bucket = 28, bucket = 29, bucket = 30, bucket = 31, bucket = 32, bucket = 33, bucket = 34, bucket = 35, bucket = 36, bucket = 37, bucket = 38, bucket = 39, bucket = 40, bucket = 41, bucket = 42, bucket = 43, bucket = 44, bucket = 45, bucket = 46, bucket = 47, bucket = 48, bucket = 49, bucket = 50, bucket = 51
    FROM (SELECT CASE WHEN NEW.total_ms < 1 THEN 0 WHEN NEW.total_ms < 1.25 THEN 1 WHEN NEW.total_ms < 1.6 THEN 2 WHEN NEW.total_ms < 2 THEN 3 WHEN NEW.total_ms < 2.5 THEN 4 WHEN NEW.total_ms < 3.15 THEN 5 WHEN NEW.total_ms < 4 THEN 6 WHEN NEW.total_ms < 5 THEN 7 WHEN NEW.total_ms < 6.3 THEN 8 WHEN NEW.total_ms < 8 THEN 9 WHEN NEW.total_ms < 10 THEN 10 WHEN NEW.total_ms < 12.5 THEN 11 WHEN NEW.total_ms < 16 THEN 12 WHEN NEW.total_ms < 20 THEN 13 WHEN NEW.total_ms < 25 THEN 14 WHEN NEW.total_ms < 31.5 THEN 15 WHEN NEW.total_ms < 40 THEN 16 WHEN NEW.total_ms < 50 THEN 17 WHEN NEW.total_ms < 63 THEN 18 WHEN NEW.total_ms < 80 THEN 19 WHEN NEW.total_ms < 100 THEN 20 WHEN NEW.total_ms < 125 THEN 21 WHEN NEW.total_ms < 160 THEN 22 WHEN NEW.total_ms < 200 THEN 23 WHEN NEW.total_ms < 250 THEN 24 WHEN NEW.total_ms < 315 THEN 25 WHEN NEW.total_ms < 400 THEN 26 WHEN NEW.total_ms < 500 THEN 27 WHEN NEW.total_ms < 630 THEN 28 WHEN NEW.total_ms < 800 THEN 29 WHEN NEW.total_ms < 1000 THEN 30 WHEN NEW.total_ms < 1250 THEN 31 WHEN NEW.total_ms < 1600 THEN 32 WHEN NEW.total_ms < 2000 THEN 33 WHEN NEW.total_ms < 2500 THEN 34 WHEN NEW.total_ms < 3150 THEN 35 WHEN NEW.total_ms < 4000 THEN 36 WHEN NEW.total_ms < 5000 THEN 37 WHEN NEW.total_ms < 6300 THEN 38 WHEN NEW.total_ms < 8000 THEN 39 WHEN NEW.total_ms < 10000 THEN 40 WHEN NEW.total_ms < 12500 THEN 41 WHEN NEW.total_ms < 16000 THEN 42 WHEN NEW.total_ms < 20000 THEN 43 WHEN NEW.total_ms < 25000 THEN 44 WHEN NEW.total_ms < 31500 THEN 45 WHEN NEW.total_ms < 40000 THEN 46 WHEN NEW.total_ms < 50000 THEN 47 WHEN NEW.total_ms < 63000 THEN 48 WHEN NEW.total_ms < 80000 THEN 49 WHEN NEW.total_ms < 100000 THEN 50 ELSE 51 END AS bucket) WHERE true
    ON CONFLICT (workspace_id, bucket_start, key_id, route, provider, model, status, dims) DO UPDATE SET
      requests = requests + excluded.requests, prompt_tokens = prompt_tokens + excluded.prompt_tokens, completion_tokens = completion_tokens + excluded.completion_tokens, cached_tokens = cached_tokens + excluded.cached_tokens, cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens, reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens, cost_usd = cost_usd + excluded.cost_usd, priced = priced + excluded.priced, cache_hits = cache_hits + excluded.cache_hits, saved_tokens = saved_tokens + excluded.saved_tokens, saved_usd = saved_usd + excluded.saved_usd, rescued = rescued + excluded.rescued, errors = errors + excluded.errors, aborted = aborted + excluded.aborted, estimated = estimated + excluded.estimated, latency_sum_ms = latency_sum_ms + excluded.latency_sum_ms, lat_00 = lat_00 + excluded.lat_00, lat_01 = lat_01 + excluded.lat_01, lat_02 = lat_02 + excluded.lat_02, lat_03 = lat_03 + excluded.lat_03, lat_04 = lat_04 + excluded.lat_04, lat_05 = lat_05 + excluded.lat_05, lat_06 = lat_06 + excluded.lat_06, lat_07 = lat_07 + excluded.lat_07, lat_08 = lat_08 + excluded.lat_08, lat_09 = lat_09 + excluded.lat_09, lat_10 = lat_10 + excluded.lat_10, lat_11 = lat_11 + excluded.lat_11, lat_12 = lat_12 + excluded.lat_12, lat_13 = lat_13 + excluded.lat_13, lat_14 = lat_14 + excluded.lat_14, lat_15 = lat_15 + excluded.lat_15, lat_16 = lat_16 + excluded.lat_16, lat_17 = lat_17 + excluded.lat_17, lat_18 = lat_18 + excluded.lat_18, lat_19 = lat_19 + excluded.lat_19, lat_20 = lat_20 + excluded.lat_20, lat_21 = lat_21 + excluded.lat_21, lat_22 = lat_22 + excluded.lat_22, lat_23 = lat_23 + excluded.lat_23, lat_24 = lat_24 + excluded.lat_24, lat_25 = lat_25 + excluded.lat_25, lat_26 = lat_26 + excluded.lat_26, lat_27 = lat_27 + excluded.lat_27, lat_28 = lat_28 + excluded.lat_28, lat_29 = lat_29 + excluded.lat_29, lat_30 = lat_30 + excluded.lat_30, lat_31 = lat_31 + excluded.lat_31, lat_32 = lat_32 + excluded.lat_32, lat_33 = lat_33 + excluded.lat_33, lat_34 = lat_34 + excluded.lat_34, lat_35 = lat_35 + excluded.lat_35, lat_36 = lat_36 + excluded.lat_36, lat_37 = lat_37 + excluded.lat_37, lat_38 = lat_38 + excluded.lat_38, lat_39 = lat_39 + excluded.lat_39, lat_40 = lat_40 + excluded.lat_40, lat_41 = lat_41 + excluded.lat_41, lat_42 = lat_42 + excluded.lat_42, lat_43 = lat_43 + excluded.lat_43, lat_44 = lat_44 + excluded.lat_44, lat_45 = lat_45 + excluded.lat_45, lat_46 = lat_46 + excluded.lat_46, lat_47 = lat_47 + excluded.lat_47, lat_48 = lat_48 + excluded.lat_48, lat_49 = lat_49 + excluded.lat_49, lat_50 = lat_50 + excluded.lat_50, lat_51 = lat_51 + excluded.lat_51, latency_min_ms = MIN(latency_min_ms, excluded.latency_min_ms), latency_max_ms = MAX(latency_max_ms, excluded.latency_max_ms);
  INSERT INTO usage_rollup_daily (workspace_id, bucket_start, key_id, route, provider, model, status, dims, requests, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_usd, priced, cache_hits, saved_tokens, saved_usd, rescued, errors, aborted, estimated, latency_sum_ms, latency_min_ms, latency_max_ms, lat_00, lat_01, lat_02, lat_03, lat_04, lat_05, lat_06, lat_07, lat_08, lat_09, lat_10, lat_11, lat_12, lat_13, lat_14, lat_15, lat_16, lat_17, lat_18, lat_19, lat_20, lat_21, lat_22, lat_23, lat_24, lat_25, lat_26, lat_27, lat_28, lat_29, lat_30, lat_31, lat_32, lat_33, lat_34, lat_35, lat_36, lat_37, lat_38, lat_39, lat_40, lat_41, lat_42, lat_43, lat_44, lat_45, lat_46, lat_47, lat_48, lat_49, lat_50, lat_51)
    SELECT NEW.workspace_id, NEW.ts - NEW.ts % 86400000, COALESCE(NEW.key_id, ''), COALESCE(NEW.route, ''), COALESCE(NEW.provider, ''), COALESCE(NEW.model, ''), NEW.status, NEW.rollup_dims, 1, NEW.prompt_tokens, NEW.completion_tokens, NEW.cached_tokens, NEW.cache_write_tokens, NEW.reasoning_tokens, COALESCE(NEW.cost_usd, 0), NEW.cost_usd IS NOT NULL, NEW.cache_status IS 'HIT', NEW.saved_tokens, COALESCE(NEW.saved_usd, 0), NEW.rescued, NEW.outcome = 'error', NEW.outcome = 'aborted', NEW.usage_estimated, NEW.total_ms, NEW.total_ms, NEW.total_ms, bucket = 0, bucket = 1, bucket = 2, bucket = 3, bucket = 4, bucket = 5, bucket = 6, bucket = 7, bucket = 8, bucket = 9, bucket = 10, bucket = 11, bucket = 12, bucket = 13, bucket = 14, bucket = 15, bucket = 16, bucket = 17, bucket = 18, bucket = 19, bucket = 20, bucket = 21, bucket = 22, bucket = 23, bucket = 24, bucket = 25, bucket = 26, bucket = 27, bucket = 28, bucket = 29, bucket = 30, bucket = 31, bucket = 32, bucket = 33, bucket = 34, bucket = 35, bucket = 36, bucket = 37, bucket = 38, bucket = 39, bucket = 40, bucket = 41, bucket = 42, bucket = 43, bucket = 44, bucket = 45, bucket = 46, bucket = 47, bucket = 48, bucket = 49, bucket = 50, bucket = 51
    FROM (SELECT CASE WHEN NEW.total_ms < 1 THEN 0 WHEN NEW.total_ms < 1.25 THEN 1 WHEN NEW.total_ms < 1.6 THEN 2 WHEN NEW.total_ms < 2 THEN 3 WHEN NEW.total_ms < 2.5 THEN 4 WHEN NEW.total_ms < 3.15 THEN 5 WHEN NEW.total_ms < 4 THEN 6 WHEN NEW.total_ms < 5 THEN 7 WHEN NEW.total_ms < 6.3 THEN 8 WHEN NEW.total_ms < 8 THEN 9 WHEN NEW.total_ms < 10 THEN 10 WHEN NEW.total_ms < 12.5 THEN 11 WHEN NEW.total_ms < 16 THEN 12 WHEN NEW.total_ms < 20 THEN 13 WHEN NEW.total_ms < 25 THEN 14 WHEN NEW.total_ms < 31.5 THEN 15 WHEN NEW.total_ms < 40 THEN 16 WHEN NEW.total_ms < 50 THEN 17 WHEN NEW.total_ms < 63 THEN 18 WHEN NEW.total_ms < 80 THEN 19 WHEN NEW.total_ms < 100 THEN 20 WHEN NEW.total_ms < 125 THEN 21 WHEN NEW.total_ms < 160 THEN 22 WHEN NEW.total_ms < 200 THEN 23 WHEN NEW.total_ms < 250 THEN 24 WHEN NEW.total_ms < 315 THEN 25 WHEN NEW.total_ms < 400 THEN 26 WHEN NEW.total_ms < 500 THEN 27 WHEN NEW.total_ms < 630 THEN 28 WHEN NEW.total_ms < 800 THEN 29 WHEN NEW.total_ms < 1000 THEN 30 WHEN NEW.total_ms < 1250 THEN 31 WHEN NEW.total_ms < 1600 THEN 32 WHEN NEW.total_ms < 2000 THEN 33 WHEN NEW.total_ms < 2500 THEN 34 WHEN NEW.total_ms < 3150 THEN 35 WHEN NEW.total_ms < 4000 THEN 36 WHEN NEW.total_ms < 5000 THEN 37 WHEN NEW.total_ms < 6300 THEN 38 WHEN NEW.total_ms < 8000 THEN 39 WHEN NEW.total_ms < 10000 THEN 40 WHEN NEW.total_ms < 12500 THEN 41 WHEN NEW.total_ms < 16000 THEN 42 WHEN NEW.total_ms < 20000 THEN 43 WHEN NEW.total_ms < 25000 THEN 44 WHEN NEW.total_ms < 31500 THEN 45 WHEN NEW.total_ms < 40000 THEN 46 WHEN NEW.total_ms < 50000 THEN 47 WHEN NEW.total_ms < 63000 THEN 48 WHEN NEW.total_ms < 80000 THEN 49 WHEN NEW.total_ms < 100000 THEN 50 ELSE 51 END AS bucket) WHERE true
    ON CONFLICT (workspace_id, bucket_start, key_id, route, provider, model, status, dims) DO UPDATE SET
      requests = requests + excluded.requests, prompt_tokens = prompt_tokens + excluded.prompt_tokens, completion_tokens = completion_tokens + excluded.completion_tokens, cached_tokens = cached_tokens + excluded.cached_tokens, cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens, reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens, cost_usd = cost_usd + excluded.cost_usd, priced = priced + excluded.priced, cache_hits = cache_hits + excluded.cache_hits, saved_tokens = saved_tokens + excluded.saved_tokens, saved_usd = saved_usd + excluded.saved_usd, rescued = rescued + excluded.rescued, errors = errors + excluded.errors, aborted = aborted + excluded.aborted, estimated = estimated + excluded.estimated, latency_sum_ms = latency_sum_ms + excluded.latency_sum_ms, lat_00 = lat_00 + excluded.lat_00, lat_01 = lat_01 + excluded.lat_01, lat_02 = lat_02 + excluded.lat_02, lat_03 = lat_03 + excluded.lat_03, lat_04 = lat_04 + excluded.lat_04, lat_05 = lat_05 + excluded.lat_05, lat_06 = lat_06 + excluded.lat_06, lat_07 = lat_07 + excluded.lat_07, lat_08 = lat_08 + excluded.lat_08, lat_09 = lat_09 + excluded.lat_09, lat_10 = lat_10 + excluded.lat_10, lat_11 = lat_11 + excluded.lat_11, lat_12 = lat_12 + excluded.lat_12, lat_13 = lat_13 + excluded.lat_13, lat_14 = lat_14 + excluded.lat_14, lat_15 = lat_15 + excluded.lat_15, lat_16 = lat_16 + excluded.lat_16, lat_17 = lat_17 + excluded.lat_17, lat_18 = lat_18 + excluded.lat_18, lat_19 = lat_19 + excluded.lat_19, lat_20 = lat_20 + excluded.lat_20, lat_21 = lat_21 + excluded.lat_21, lat_22 = lat_22 + excluded.lat_22, lat_23 = lat_23 + excluded.lat_23, lat_24 = lat_24 + excluded.lat_24, lat_25 = lat_25 + excluded.lat_25, lat_26 = lat_26 + excluded.lat_26, lat_27 = lat_27 + excluded.lat_27, lat_28 = lat_28 + excluded.lat_28, lat_29 = lat_29 + excluded.lat_29, lat_30 = lat_30 + excluded.lat_30, lat_31 = lat_31 + excluded.lat_31, lat_32 = lat_32 + excluded.lat_32, lat_33 = lat_33 + excluded.lat_33, lat_34 = lat_34 + excluded.lat_34, lat_35 = lat_35 + excluded.lat_35, lat_36 = lat_36 + excluded.lat_36, lat_37 = lat_37 + excluded.lat_37, lat_38 = lat_38 + excluded.lat_38, lat_39 = lat_39 + excluded.lat_39, lat_40 = lat_40 + excluded.lat_40, lat_41 = lat_41 + excluded.lat_41, lat_42 = lat_42 + excluded.lat_42, lat_43 = lat_43 + excluded.lat_43, lat_44 = lat_44 + excluded.lat_44, lat_45 = lat_45 + excluded.lat_45, lat_46 = lat_46 + excluded.lat_46, lat_47 = lat_47 + excluded.lat_47, lat_48 = lat_48 + excluded.lat_48, lat_49 = lat_49 + excluded.lat_49, lat_50 = lat_50 + excluded.lat_50, lat_51 = lat_51 + excluded.lat_51, latency_min_ms = MIN(latency_min_ms, excluded.latency_min_ms), latency_max_ms = MAX(latency_max_ms, excluded.latency_max_ms);
END;

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
