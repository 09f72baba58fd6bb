-- The admin audit log: one row per successful admin write (src/audit/). Never a secret: targets are named by id,
-- states only by the SHA-256 of their public form, changed fields only by name.
-- id is the primary key: an entry written again by the fallback queue's consumer is ignored.
CREATE TABLE IF NOT EXISTS audit_log (
  id TEXT PRIMARY KEY,                  -- aud_…, unique
  ts INTEGER NOT NULL,                  -- when the change was made, ms since the epoch
  actor_id TEXT NOT NULL,               -- the admin token's id, or ADMIN_TOKEN for the secret
  actor_name TEXT NOT NULL,             -- the token's name at the time
  actor_role TEXT NOT NULL,             -- owner | workspace_admin | viewer
  action TEXT NOT NULL,                 -- workspace.create, config.update, key.revoke, … (src/audit/actions.ts)
  target_type TEXT NOT NULL,            -- workspace | config | key | credential | master_key | admin_token
  target_id TEXT NOT NULL,              -- the workspace, key, credential name, master key or token id
  workspace_id TEXT,                    -- the workspace the target belongs to; NULL for gateway-wide targets
  before_hash TEXT,                     -- sha256:<hex> of the target's public form before; NULL if it did not exist
  after_hash TEXT,                      -- the same after; NULL once deleted
  changed_fields TEXT NOT NULL,         -- JSON array of the top-level fields that differ (names only)
  request_id TEXT NOT NULL,             -- the admin request's x-request-id
  client_address TEXT                   -- cf-connecting-ip of the caller, if known
);
CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log (ts, id);
CREATE INDEX IF NOT EXISTS audit_log_workspace_ts ON audit_log (workspace_id, ts, id);
CREATE INDEX IF NOT EXISTS audit_log_actor_ts ON audit_log (actor_id, ts, id);
