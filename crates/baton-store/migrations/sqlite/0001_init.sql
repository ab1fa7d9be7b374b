-- baton's SQLite schema, version 1.
-- Times are milliseconds since the Unix epoch. Counters kept by triggers make `baton queue`
-- independent of how many finished jobs a namespace has accumulated.

CREATE TABLE assignments (
    id           TEXT PRIMARY KEY,
    namespace    TEXT NOT NULL,
    north_star   TEXT NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT,
    max_jobs     INTEGER NOT NULL,
    budget_usd   REAL,
    cost_usd     REAL,                 -- sum of its jobs' cost, kept by trigger; NULL until one reports
    job_count    INTEGER NOT NULL DEFAULT 0,  -- kept by trigger; what the job limit counts
    origin_root  TEXT,                 -- the checkout it was created from
    base_ref     TEXT,                 -- reserved: worktree base (create --base)
    branch       TEXT,                 -- reserved: its git branch
    worktree     TEXT,                 -- reserved: its working tree
    host         TEXT,                 -- reserved: the host its working tree lives on
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
-- Covering (id included): `baton queue` and every claim list the active assignments in order.
CREATE INDEX assignments_by_status ON assignments(namespace, status, created_at, id);
CREATE INDEX assignments_by_created ON assignments(namespace, created_at);

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    namespace        TEXT NOT NULL,
    assignment_id    TEXT NOT NULL REFERENCES assignments(id),
    position         INTEGER NOT NULL,
    type             TEXT NOT NULL,
    harness          TEXT NOT NULL,
    context          TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    lost_attempts    INTEGER NOT NULL DEFAULT 0,
    not_before       INTEGER,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    duration_ms      INTEGER,
    result           TEXT,
    success          INTEGER,
    error            TEXT,
    error_kind       TEXT,
    exit_code        INTEGER,
    session_id       TEXT,
    tokens_in        INTEGER,
    tokens_out       INTEGER,
    cost_usd         REAL,
    for_job_id       TEXT,
    -- the lease: who holds the job, until when, under which fencing token
    lease_owner      TEXT,
    lease_token      INTEGER,
    lease_expires_at INTEGER,
    -- the agent process, so a runner taking a job over on the same host can stop an orphan
    agent_host       TEXT,
    agent_pgid       INTEGER,
    agent_started_at INTEGER,
    -- reserved for worktrees: git state around the job
    git_head_before  TEXT,
    git_head_after   TEXT,
    diff_stat        TEXT,
    -- transcript bookkeeping (events live in job_events)
    transcript_events    INTEGER NOT NULL DEFAULT 0,
    transcript_bytes     INTEGER NOT NULL DEFAULT 0,
    transcript_truncated INTEGER NOT NULL DEFAULT 0,
    -- on a pm job: set once it inserted a job or changed its assignment's status
    decided          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_chain ON jobs(assignment_id, position);
CREATE INDEX jobs_by_created ON jobs(namespace, created_at);
CREATE INDEX jobs_by_status ON jobs(namespace, status, created_at);
-- "one running job per assignment", enforced by the database itself.
CREATE UNIQUE INDEX jobs_one_running ON jobs(assignment_id) WHERE status = 'running';
-- Covering, in chain order: the ready rule reads only this (see queue.rs `heads`).
CREATE INDEX jobs_open ON jobs(namespace, assignment_id, position, status, id, not_before)
    WHERE status IN ('pending', 'running');

CREATE TABLE attempts (
    job_id      TEXT NOT NULL REFERENCES jobs(id),
    n           INTEGER NOT NULL,
    runner      TEXT,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    outcome     TEXT NOT NULL,
    error_kind  TEXT,
    error       TEXT,
    PRIMARY KEY (job_id, n)
) WITHOUT ROWID;

CREATE TABLE history (
    id            INTEGER PRIMARY KEY,
    assignment_id TEXT NOT NULL,
    job_id        TEXT,
    at            INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    reason        TEXT
);
CREATE INDEX history_by_assignment ON history(assignment_id, id);

CREATE TABLE job_events (
    job_id  TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    event   TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;

CREATE TABLE runners (
    id           TEXT PRIMARY KEY,
    namespace    TEXT NOT NULL,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    stopped_at   INTEGER,
    concurrency  INTEGER NOT NULL,
    lease_ms     INTEGER NOT NULL
);
CREATE INDEX runners_by_namespace ON runners(namespace, stopped_at);

-- Counts by status, per namespace, kept by the triggers below.
CREATE TABLE status_counts (
    namespace TEXT NOT NULL,
    entity    TEXT NOT NULL,   -- 'assignment' | 'job'
    status    TEXT NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (namespace, entity, status)
) WITHOUT ROWID;

CREATE TRIGGER assignments_count_insert AFTER INSERT ON assignments BEGIN
    INSERT INTO status_counts(namespace, entity, status, n) VALUES (NEW.namespace, 'assignment', NEW.status, 1)
        ON CONFLICT(namespace, entity, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER assignments_count_update AFTER UPDATE OF status ON assignments WHEN OLD.status <> NEW.status BEGIN
    UPDATE status_counts SET n = n - 1 WHERE namespace = OLD.namespace AND entity = 'assignment' AND status = OLD.status;
    INSERT INTO status_counts(namespace, entity, status, n) VALUES (NEW.namespace, 'assignment', NEW.status, 1)
        ON CONFLICT(namespace, entity, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO status_counts(namespace, entity, status, n) VALUES (NEW.namespace, 'job', NEW.status, 1)
        ON CONFLICT(namespace, entity, status) DO UPDATE SET n = n + 1;
    UPDATE assignments SET job_count = job_count + 1 WHERE id = NEW.assignment_id;
END;
CREATE TRIGGER jobs_count_update AFTER UPDATE OF status ON jobs WHEN OLD.status <> NEW.status BEGIN
    UPDATE status_counts SET n = n - 1 WHERE namespace = OLD.namespace AND entity = 'job' AND status = OLD.status;
    INSERT INTO status_counts(namespace, entity, status, n) VALUES (NEW.namespace, 'job', NEW.status, 1)
        ON CONFLICT(namespace, entity, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER jobs_cost_update AFTER UPDATE OF cost_usd ON jobs WHEN OLD.cost_usd IS NOT NEW.cost_usd BEGIN
    UPDATE assignments SET cost_usd = (SELECT SUM(cost_usd) FROM jobs WHERE assignment_id = NEW.assignment_id)
        WHERE id = NEW.assignment_id;
END;

-- The outbox of [notify] hooks: one row per change a person may want to hear about, written by
-- triggers in the transaction that makes the change, taken (once) by whichever runner delivers it.
CREATE TABLE notifications (
    id            INTEGER PRIMARY KEY,
    namespace     TEXT NOT NULL,
    assignment_id TEXT NOT NULL,
    job_id        TEXT,
    event         TEXT NOT NULL,   -- 'blocked' | 'complete' | 'failed_job'
    created_at    INTEGER NOT NULL,
    taken_at      INTEGER
);
CREATE INDEX notifications_waiting ON notifications(namespace, id) WHERE taken_at IS NULL;

CREATE TRIGGER assignments_notify AFTER UPDATE OF status ON assignments
    WHEN OLD.status <> NEW.status AND NEW.status IN ('blocked', 'complete') BEGIN
    INSERT INTO notifications(namespace, assignment_id, event, created_at)
        VALUES (NEW.namespace, NEW.id, NEW.status, NEW.updated_at);
END;
CREATE TRIGGER jobs_notify_failed AFTER UPDATE OF status ON jobs
    WHEN OLD.status <> NEW.status AND NEW.status = 'failed' BEGIN
    INSERT INTO notifications(namespace, assignment_id, job_id, event, created_at)
        VALUES (NEW.namespace, NEW.assignment_id, NEW.id, 'failed_job', COALESCE(NEW.finished_at, 0));
END;
