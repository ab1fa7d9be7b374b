-- Runners on several hosts: the commit of an assignment's branch last pushed to the `[sync]`
-- remote, on the job whose attempt pushed it and on the assignment. The assignment's is what the
-- next push leases against (`--force-with-lease`), and what another host continues from when
-- the assignment's host is gone.
ALTER TABLE jobs ADD COLUMN pushed_commit TEXT;
ALTER TABLE assignments ADD COLUMN pushed_commit TEXT;
-- Facts about the database as a whole: which baton wrote its schema, and the newest runner
-- protocol that served it (an older runner refuses to start, naming the version to run).
CREATE TABLE baton_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
