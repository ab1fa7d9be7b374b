-- Spend you can trust: a job's tokens accumulate over its attempts like its cost; its cost says
-- where it comes from (reported by the CLI, estimated from a configured price, or unpriced); and
-- each attempt keeps its own usage, cost and the model it was priced for.
ALTER TABLE jobs ADD COLUMN cache_read_tokens INTEGER;
ALTER TABLE jobs ADD COLUMN cache_write_tokens INTEGER;
ALTER TABLE jobs ADD COLUMN cost_source TEXT;
UPDATE jobs SET cost_source = 'reported' WHERE cost_usd IS NOT NULL;
UPDATE jobs SET cost_source = 'unpriced' WHERE cost_usd IS NULL AND (tokens_in IS NOT NULL OR tokens_out IS NOT NULL);
ALTER TABLE attempts ADD COLUMN tokens_in INTEGER;
ALTER TABLE attempts ADD COLUMN tokens_out INTEGER;
ALTER TABLE attempts ADD COLUMN cache_read_tokens INTEGER;
ALTER TABLE attempts ADD COLUMN cache_write_tokens INTEGER;
ALTER TABLE attempts ADD COLUMN cost_usd REAL;
ALTER TABLE attempts ADD COLUMN cost_source TEXT;
ALTER TABLE attempts ADD COLUMN model TEXT;
-- /metrics reads every job of a namespace: covering indexes keep it off the wide job rows
-- (results, contexts), which made a scrape of 100k jobs read the whole table.
CREATE INDEX jobs_metrics_join ON jobs(namespace, id, harness, created_at);
CREATE INDEX jobs_metrics_status ON jobs(namespace, status, type, finished_at, duration_ms, decision);
