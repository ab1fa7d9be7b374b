-- Hourly upkeep (the retention policy and disk measurement) runs on one runner per namespace and
-- host at a time: worktrees live on the host that made them, so each host cleans its own. The
-- runner holding an unexpired row does the pass; another takes it over once it expires.
CREATE TABLE maintenance_leases (
    namespace TEXT NOT NULL,
    host TEXT NOT NULL,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, host)
);
-- The disk use the last pass measured on each host, with when: `baton queue` shows it without
-- walking any tree itself.
CREATE TABLE disk_use (
    namespace TEXT NOT NULL,
    host TEXT NOT NULL,
    worktrees_bytes BIGINT NOT NULL,
    database_bytes BIGINT,
    measured_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, host)
);
