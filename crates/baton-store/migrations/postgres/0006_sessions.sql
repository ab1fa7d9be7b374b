-- Sessions that carry over and per-job model choice: how each job's agent session began (a new
-- one, a continuation or a fork of an earlier job's), why a continuation ran fresh instead, the
-- machine that holds the session, and the model and effort the job asked for.
ALTER TABLE jobs ADD COLUMN session_mode TEXT NOT NULL DEFAULT 'fresh';
ALTER TABLE jobs ADD COLUMN session_source_job_id TEXT;
ALTER TABLE jobs ADD COLUMN session_fallback_reason TEXT;
ALTER TABLE jobs ADD COLUMN model TEXT;
ALTER TABLE jobs ADD COLUMN effort TEXT;
ALTER TABLE jobs ADD COLUMN session_host TEXT;
