-- Guardrail outcomes: one row per request and rule that acted (src/guardrails/), written with the request's usage
-- event by the queue consumer. (request_id, rule) is the key: a redelivered event adds nothing.
CREATE TABLE IF NOT EXISTS usage_guardrails (
  request_id TEXT NOT NULL,
  rule TEXT NOT NULL,                   -- the rule's name in the workspace's guardrails policy
  workspace_id TEXT NOT NULL,
  key_id TEXT,
  ts INTEGER NOT NULL,                  -- request start, ms since the epoch (as usage_events.ts)
  flagged INTEGER NOT NULL,             -- matches of a `flag` rule (or 1 for a flagged prompt size)
  redacted INTEGER NOT NULL,            -- matches replaced by placeholders
  blocked INTEGER NOT NULL,             -- 1 when this rule refused the request or its answer
  PRIMARY KEY (request_id, rule)
);
CREATE INDEX IF NOT EXISTS usage_guardrails_workspace_ts ON usage_guardrails (workspace_id, ts);
