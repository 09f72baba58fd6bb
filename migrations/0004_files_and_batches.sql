-- Files (/v1/files) and batches (/v1/batches, /v1/messages/batches). A file's content lives in R2 (binding FILES,
-- key files/<workspace_id>/<id>); this table is its record, written only after the content is stored and checked.
CREATE TABLE IF NOT EXISTS files (
  id TEXT PRIMARY KEY,                   -- file-…
  workspace_id TEXT NOT NULL,
  filename TEXT NOT NULL,
  purpose TEXT NOT NULL,                 -- batch | fine-tune | user_data | assistants | batch_output
  bytes INTEGER NOT NULL,
  created_at INTEGER NOT NULL,           -- seconds since the epoch
  line_count INTEGER                     -- purpose batch: the request lines it holds (validated on upload)
);
CREATE INDEX IF NOT EXISTS files_workspace_created ON files (workspace_id, created_at, id);

-- One row per batch: the state the client sees, plus what its runner keeps to itself (runner_state: provider
-- file and batch ids, never rendered). Transitions are compare-and-set on status (src/batches/store.ts).
CREATE TABLE IF NOT EXISTS batches (
  id TEXT PRIMARY KEY,                   -- batch_…
  workspace_id TEXT NOT NULL,
  key_id TEXT,
  api TEXT NOT NULL,                     -- openai | anthropic: the API that created it (its shapes)
  endpoint TEXT NOT NULL,                -- /v1/chat/completions | /v1/embeddings | /v1/messages
  mode TEXT NOT NULL,                    -- native | gateway
  route TEXT,                            -- the route the lines named, NULL for provider/model
  provider TEXT,                         -- the provider target (native): config name and its model
  model TEXT,
  input_file_id TEXT NOT NULL,
  completion_window TEXT NOT NULL,
  metadata TEXT,                         -- JSON object of strings, or NULL
  status TEXT NOT NULL,                  -- validating | in_progress | finalizing | completed | failed | expired | cancelling | cancelled
  total INTEGER NOT NULL,
  completed INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,     -- lines that ended in an error, unprocessed ones included
  unprocessed INTEGER NOT NULL DEFAULT 0, -- lines never run (the batch was cancelled, expired or failed first)
  output_file_id TEXT,
  error_file_id TEXT,
  errors TEXT,                           -- JSON [{ code, message, param, line }] when the batch failed
  usage TEXT,                            -- JSON { input_tokens, output_tokens, total_tokens, … } once finished
  runner_state TEXT,                     -- JSON, the runner's own (provider ids); never leaves the gateway
  created_at INTEGER NOT NULL,           -- seconds since the epoch, like every *_at below
  in_progress_at INTEGER,
  expires_at INTEGER,
  finalizing_at INTEGER,
  completed_at INTEGER,
  failed_at INTEGER,
  expired_at INTEGER,
  cancelling_at INTEGER,
  cancelled_at INTEGER
);
CREATE INDEX IF NOT EXISTS batches_workspace_created ON batches (workspace_id, created_at, id);

-- Usage events of batch lines carry their batch (groupBy=batch).
ALTER TABLE usage_events ADD COLUMN batch_id TEXT;
CREATE INDEX IF NOT EXISTS usage_events_workspace_batch ON usage_events (workspace_id, batch_id);
