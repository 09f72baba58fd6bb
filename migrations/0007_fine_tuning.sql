-- Fine-tuning jobs (/v1/fine_tuning/jobs), their events, and the tuned models they made (src/fine-tuning/store.ts).

-- One row per job: what the client sees, plus what the runner keeps to itself (runner_state: the provider's file,
-- object and job ids, never rendered). Transitions are compare-and-set on status.
CREATE TABLE IF NOT EXISTS fine_tuning_jobs (
  id TEXT PRIMARY KEY,                   -- ftjob-…
  workspace_id TEXT NOT NULL,
  key_id TEXT,
  provider TEXT NOT NULL,                -- the provider's name in the workspace config
  provider_type TEXT NOT NULL,           -- its type (openai, azure, vertex, bedrock)
  model TEXT NOT NULL,                   -- the base model as the client named it (provider/model or a route)
  base_model TEXT NOT NULL,              -- the provider's id of the base model
  training_file TEXT NOT NULL,
  validation_file TEXT,
  method TEXT NOT NULL,                  -- JSON: OpenAI's method object (type, hyperparameters)
  suffix TEXT,
  seed INTEGER,
  metadata TEXT,                         -- JSON object of strings, or NULL
  status TEXT NOT NULL,                  -- validating_files | queued | running | succeeded | failed | cancelled
  fine_tuned_model TEXT,                 -- the tuned model's id, callable as <provider>/<fine_tuned_model>
  trained_tokens INTEGER,
  error TEXT,                            -- JSON { code, message, param } when failed
  checkpoints TEXT,                      -- JSON list of checkpoints as the provider reported them
  runner_state TEXT,                     -- JSON, the runner's own (provider ids); never leaves the gateway
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,           -- seconds since the epoch, like every *_at below
  finished_at INTEGER,
  estimated_finish INTEGER
);
CREATE INDEX IF NOT EXISTS fine_tuning_jobs_workspace_created ON fine_tuning_jobs (workspace_id, created_at, id);

-- The job's events, newest first by (created_at, rowid): the gateway's own (files checked, uploaded, job created,
-- status changes) and the provider's where it has an events API, copied in as the job is polled.
CREATE TABLE IF NOT EXISTS fine_tuning_events (
  id TEXT PRIMARY KEY,                   -- ftevent-…, derived from the job and the event's source, so a repeat adds nothing
  job_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  level TEXT NOT NULL,                   -- info | warn | error
  type TEXT NOT NULL,                    -- message | metrics
  message TEXT NOT NULL,
  data TEXT                              -- JSON, or NULL
);
CREATE INDEX IF NOT EXISTS fine_tuning_events_job ON fine_tuning_events (workspace_id, job_id, created_at);

-- Which workspace made each tuned model: keys of other workspaces are refused it (src/fine-tuning/tuned-models.ts).
CREATE TABLE IF NOT EXISTS fine_tuned_models (
  provider_type TEXT NOT NULL,
  model TEXT NOT NULL,                   -- the id it is called by (after "<provider>/")
  workspace_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  base_model TEXT NOT NULL,              -- the provider's base model (what its price follows)
  created_at INTEGER NOT NULL,
  PRIMARY KEY (provider_type, model)
);
