-- `[budget] daily_usd` is judged at every claim from what the namespace's attempts cost on the
-- current UTC day. Summing the day's attempts made each claim's cost grow with the day's work;
-- this table keeps the sum per (namespace, UTC day), moved by the triggers below whenever an
-- attempt's end or cost is written. Attempts are never deleted (retention drops their text and
-- keeps the rows), so nothing takes a cost back out.
CREATE TABLE daily_spend (
    namespace TEXT NOT NULL,
    day       BIGINT NOT NULL,   -- the first millisecond of the UTC day its attempts ended on
    cost_usd  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (namespace, day)
);

INSERT INTO daily_spend (namespace, day, cost_usd)
SELECT j.namespace, a.finished_at - a.finished_at % 86400000, SUM(a.cost_usd)
FROM attempts a JOIN jobs j ON j.id = a.job_id
WHERE a.finished_at IS NOT NULL AND a.cost_usd IS NOT NULL
GROUP BY 1, 2;

CREATE FUNCTION baton_daily_spend() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.finished_at IS NOT NULL AND OLD.cost_usd IS NOT NULL THEN
        UPDATE daily_spend SET cost_usd = cost_usd - OLD.cost_usd
            WHERE namespace = (SELECT namespace FROM jobs WHERE id = OLD.job_id)
              AND day = OLD.finished_at - OLD.finished_at % 86400000;
    END IF;
    IF NEW.finished_at IS NOT NULL AND NEW.cost_usd IS NOT NULL THEN
        INSERT INTO daily_spend AS s (namespace, day, cost_usd)
            SELECT namespace, NEW.finished_at - NEW.finished_at % 86400000, NEW.cost_usd FROM jobs WHERE id = NEW.job_id
            ON CONFLICT (namespace, day) DO UPDATE SET cost_usd = s.cost_usd + excluded.cost_usd;
    END IF;
    RETURN NULL;
END
$$;

-- Deferred to commit time, like the status counters: a namespace's row is then locked only for
-- the instant of the commit, so transactions finishing its jobs do not queue behind each
-- other's work. The claim reads the row in a transaction of its own, after those commits.
-- The WHEN clauses keep the events of attempts without a cost (every claim's insert, most
-- ends) from being queued at all.
CREATE CONSTRAINT TRIGGER attempts_spend_insert AFTER INSERT ON attempts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.finished_at IS NOT NULL AND NEW.cost_usd IS NOT NULL)
    EXECUTE FUNCTION baton_daily_spend();
CREATE CONSTRAINT TRIGGER attempts_spend_update AFTER UPDATE OF finished_at, cost_usd ON attempts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((OLD.finished_at IS DISTINCT FROM NEW.finished_at OR OLD.cost_usd IS DISTINCT FROM NEW.cost_usd)
        AND ((OLD.finished_at IS NOT NULL AND OLD.cost_usd IS NOT NULL)
             OR (NEW.finished_at IS NOT NULL AND NEW.cost_usd IS NOT NULL)))
    EXECUTE FUNCTION baton_daily_spend();
