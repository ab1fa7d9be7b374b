-- Every claim first settles assignments stranded on another host and lifts the daily caps of a
-- new UTC day. Both read assignments by a condition few rows meet (active and held by another
-- host; blocked by the daily cap), and both went through every active, or every blocked,
-- assignment of the namespace to find them: a claim's cost grew with the namespace. These
-- partial indexes hold only the candidates.
CREATE INDEX assignments_hosted_active ON assignments(namespace, host)
    WHERE status = 'active' AND host IS NOT NULL;
CREATE INDEX assignments_daily_capped ON assignments(namespace, id)
    WHERE status = 'blocked' AND reason LIKE 'the namespace''s daily budget is spent%';
