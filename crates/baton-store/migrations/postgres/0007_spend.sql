-- Spend you can trust: a job's tokens accumulate over its attempts like its cost; its cost says
-- where it comes from (reported by the CLI, estimated from a configured price, or unpriced); and
-- each attempt keeps its own usage, cost and the model it was priced for.
ALTER TABLE jobs ADD COLUMN cache_read_tokens BIGINT;
ALTER TABLE jobs ADD COLUMN cache_write_tokens BIGINT;
ALTER TABLE jobs ADD COLUMN cost_source TEXT;
UPDATE jobs SET cost_source = 'reported' WHERE cost_usd IS NOT NULL;
UPDATE jobs SET cost_source = 'unpriced' WHERE cost_usd IS NULL AND (tokens_in IS NOT NULL OR tokens_out IS NOT NULL);
ALTER TABLE attempts ADD COLUMN tokens_in BIGINT;
ALTER TABLE attempts ADD COLUMN tokens_out BIGINT;
ALTER TABLE attempts ADD COLUMN cache_read_tokens BIGINT;
ALTER TABLE attempts ADD COLUMN cache_write_tokens BIGINT;
ALTER TABLE attempts ADD COLUMN cost_usd DOUBLE PRECISION;
ALTER TABLE attempts ADD COLUMN cost_source TEXT;
ALTER TABLE attempts ADD COLUMN model TEXT;
