-- Budgets that bind every harness: a token budget per assignment (`--budget-tokens`), counting
-- input + output + cache-write tokens (cache reads are cheap and repeat on every turn), kept by
-- trigger like cost_usd so the claim's guard reads it inside its transaction.
ALTER TABLE assignments ADD COLUMN budget_tokens BIGINT;
ALTER TABLE assignments ADD COLUMN tokens_spent BIGINT;
UPDATE assignments SET tokens_spent = (
    SELECT SUM(CASE WHEN tokens_in IS NULL AND tokens_out IS NULL THEN NULL
               ELSE COALESCE(tokens_in, 0) - COALESCE(cache_read_tokens, 0) + COALESCE(tokens_out, 0) END)
    FROM jobs WHERE jobs.assignment_id = assignments.id);
CREATE FUNCTION baton_sum_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE assignments SET tokens_spent = (
        SELECT SUM(CASE WHEN tokens_in IS NULL AND tokens_out IS NULL THEN NULL
                   ELSE COALESCE(tokens_in, 0) - COALESCE(cache_read_tokens, 0) + COALESCE(tokens_out, 0) END)
        FROM jobs WHERE assignment_id = NEW.assignment_id)
        WHERE id = NEW.assignment_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_tokens_update AFTER UPDATE OF tokens_in, tokens_out, cache_read_tokens ON jobs
    FOR EACH ROW WHEN (OLD.tokens_in IS DISTINCT FROM NEW.tokens_in OR OLD.tokens_out IS DISTINCT FROM NEW.tokens_out
        OR OLD.cache_read_tokens IS DISTINCT FROM NEW.cache_read_tokens)
    EXECUTE FUNCTION baton_sum_tokens();
-- `[budget] daily_usd` sums the cost of a namespace's attempts that ended today (UTC) before
-- each claim: the attempts of one day, found by their end.
CREATE INDEX attempts_finished_at ON attempts(finished_at);
