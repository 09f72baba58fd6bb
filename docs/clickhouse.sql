-- The ClickHouse table Switchyard's export writes raw usage events to (CLICKHOUSE_URL, CLICKHOUSE_TABLE): one row
-- per request, the same fields as D1's usage_events (docs/storage.md), metadata as a Map, bodies only for
-- workspaces with body logging on, guardrail outcomes as JSON ({} when no rule acted). ReplacingMergeTree by request id: a batch the export queue retries after a
-- partial failure collapses to one row per request (query with FINAL, or GROUP BY request_id, for exact counts
-- before merges). Needs ClickHouse 22.3 or later (DateTime64, Map, Bool inputs). test/simulators/clickhouse.ts
-- checks every exported row against the columns below.
CREATE TABLE IF NOT EXISTS switchyard_usage_events
(
    request_id String,
    client_request_id Nullable(String),
    ts DateTime64(3, 'UTC'),
    workspace_id LowCardinality(String),
    key_id Nullable(String),
    route Nullable(String),
    operation LowCardinality(String),
    provider Nullable(String),
    model Nullable(String),
    attempts String,
    attempt_count UInt16,
    prompt_tokens UInt32,
    completion_tokens UInt32,
    cached_tokens UInt32,
    cache_write_tokens UInt32,
    reasoning_tokens UInt32,
    usage_estimated UInt8,
    cost_usd Nullable(Float64),
    cache_status Nullable(String),
    saved_tokens UInt32,
    saved_usd Nullable(Float64),
    coalesced UInt8,
    stream UInt8,
    ttfb_ms Nullable(Float64),
    total_ms Float64,
    overhead_ms Float64,
    status UInt16,
    outcome LowCardinality(String),
    error_type Nullable(String),
    rescued UInt8,
    metadata Map(String, String),
    end_user Nullable(String),
    trace_id Nullable(String),
    parent_span_id Nullable(String),
    request_body Nullable(String),
    response_body Nullable(String),
    bodies_truncated UInt8,
    guardrails String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (workspace_id, ts, request_id);
