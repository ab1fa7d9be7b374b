-- baton's PostgreSQL schema, version 1. The same tables and columns as the SQLite schema, in
-- PostgreSQL types. Times are milliseconds since the Unix epoch (BIGINT), taken from the database
-- clock so that runners on several machines agree on leases.
--
-- Concurrency rule every writer follows: a transaction that changes an assignment or any of its
-- jobs' statuses or positions first locks the assignment row (SELECT … FOR UPDATE; claims use
-- SKIP LOCKED). Per-assignment writes are therefore serialized, and under READ COMMITTED every
-- statement after the lock sees everything the previous holder committed.

CREATE TABLE assignments (
    id           TEXT PRIMARY KEY,
    namespace    TEXT NOT NULL,
    north_star   TEXT NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT,
    max_jobs     INTEGER NOT NULL,
    budget_usd   DOUBLE PRECISION,
    cost_usd     DOUBLE PRECISION,          -- sum of its jobs' cost, kept by trigger; NULL until one reports
    job_count    INTEGER NOT NULL DEFAULT 0, -- kept by trigger; what the job limit counts
    origin_root  TEXT,                      -- the checkout it was created from
    base_ref     TEXT,                      -- reserved: worktree base (create --base)
    branch       TEXT,                      -- reserved: its git branch
    worktree     TEXT,                      -- reserved: its working tree
    host         TEXT,                      -- reserved: the host its working tree lives on
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX assignments_by_status ON assignments(namespace, status, created_at);
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
    not_before       BIGINT,
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    finished_at      BIGINT,
    duration_ms      BIGINT,
    result           TEXT,
    success          BOOLEAN,
    error            TEXT,
    error_kind       TEXT,
    exit_code        INTEGER,
    session_id       TEXT,
    tokens_in        BIGINT,
    tokens_out       BIGINT,
    cost_usd         DOUBLE PRECISION,
    for_job_id       TEXT,
    -- the lease: who holds the job, until when, under which fencing token
    lease_owner      TEXT,
    lease_token      BIGINT,
    lease_expires_at BIGINT,
    -- the agent process, so a runner taking a job over on the same host can stop an orphan
    agent_host       TEXT,
    agent_pgid       INTEGER,
    agent_started_at BIGINT,
    -- reserved for worktrees: git state around the job
    git_head_before  TEXT,
    git_head_after   TEXT,
    diff_stat        TEXT,
    -- transcript bookkeeping (events live in job_events)
    transcript_events    BIGINT NOT NULL DEFAULT 0,
    transcript_bytes     BIGINT NOT NULL DEFAULT 0,
    transcript_truncated BOOLEAN NOT NULL DEFAULT FALSE,
    -- on a pm job: set once it inserted a job or changed its assignment's status
    decided          BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX jobs_by_chain ON jobs(assignment_id, position);
CREATE INDEX jobs_by_created ON jobs(namespace, created_at);
CREATE INDEX jobs_by_status ON jobs(namespace, status, created_at);
-- "one running job per assignment", enforced by the database itself.
CREATE UNIQUE INDEX jobs_one_running ON jobs(assignment_id) WHERE status = 'running';
CREATE INDEX jobs_open ON jobs(namespace, status, assignment_id, position) WHERE status IN ('pending', 'running');
-- A runner's held leases (`held_leases`, `runners`) without scanning finished jobs.
CREATE INDEX jobs_by_lease_owner ON jobs(lease_owner) WHERE status = 'running';

CREATE TABLE attempts (
    job_id      TEXT NOT NULL REFERENCES jobs(id),
    n           INTEGER NOT NULL,
    runner      TEXT,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    outcome     TEXT NOT NULL,
    error_kind  TEXT,
    error       TEXT,
    PRIMARY KEY (job_id, n)
);

CREATE TABLE history (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    assignment_id TEXT NOT NULL,
    job_id        TEXT,
    at            BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    reason        TEXT
);
CREATE INDEX history_by_assignment ON history(assignment_id, id);

CREATE TABLE job_events (
    job_id  TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    attempt INTEGER NOT NULL,
    event   TEXT NOT NULL,   -- JSON text as serialized (jsonb would reorder keys and refuse \u0000)
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE runners (
    id           TEXT PRIMARY KEY,
    namespace    TEXT NOT NULL,
    host         TEXT NOT NULL,
    pid          BIGINT NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    stopped_at   BIGINT,
    concurrency  INTEGER NOT NULL,
    lease_ms     BIGINT NOT NULL
);
CREATE INDEX runners_by_namespace ON runners(namespace, stopped_at);

-- Counts of assignments and jobs in a *final* status, per namespace, kept by the triggers below.
-- Open statuses (active, blocked, pending, running) are counted from the indexes above when
-- `baton queue` asks: they are bounded by the work in flight, while final rows grow forever.
-- Counting only final statuses means a counter row is only ever incremented, by transactions
-- that finish, fail or cancel something; counting open statuses too would make every claim and
-- every finish update the same hot rows in opposite orders (pending→running against
-- running→complete plus a new pending PM job) and deadlock under load.
CREATE TABLE status_counts (
    namespace TEXT NOT NULL,
    entity    TEXT NOT NULL,   -- 'assignment' | 'job'
    status    TEXT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (namespace, entity, status)
);

-- Moves one row between final-status counters. TG_ARGV[0] is the entity.
CREATE FUNCTION baton_count_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status IN ('complete', 'failed', 'cancelled') THEN
        UPDATE status_counts SET n = n - 1
            WHERE namespace = OLD.namespace AND entity = TG_ARGV[0] AND status = OLD.status;
    END IF;
    IF NEW.status IN ('complete', 'failed', 'cancelled') THEN
        INSERT INTO status_counts AS c (namespace, entity, status, n)
            VALUES (NEW.namespace, TG_ARGV[0], NEW.status, 1)
            ON CONFLICT (namespace, entity, status) DO UPDATE SET n = c.n + 1;
    END IF;
    RETURN NULL;
END
$$;

-- Deferred to commit time: the counter row is then locked only for the instant of the commit,
-- so transactions finishing jobs of one namespace do not queue behind each other's work.
-- Within one transaction the events fire in the order they happened; the only transaction
-- touching two counters (an assignment completed or cancelled, then its open jobs cancelled)
-- always does so in that order, so counter updates cannot deadlock.
CREATE CONSTRAINT TRIGGER assignments_count_final AFTER INSERT OR UPDATE OF status ON assignments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION baton_count_final('assignment');
CREATE CONSTRAINT TRIGGER jobs_count_final AFTER INSERT OR UPDATE OF status ON jobs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION baton_count_final('job');

-- The job limit reads job_count inside the inserting transaction: kept at once, not deferred.
-- The assignment row is already locked by the writer (see the rule at the top).
CREATE FUNCTION baton_count_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE assignments SET job_count = job_count + 1 WHERE id = NEW.assignment_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION baton_count_job();

-- The budget guard reads cost_usd inside the claiming transaction: kept at once.
CREATE FUNCTION baton_sum_cost() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE assignments SET cost_usd = (SELECT SUM(cost_usd) FROM jobs WHERE assignment_id = NEW.assignment_id)
        WHERE id = NEW.assignment_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_cost_update AFTER UPDATE OF cost_usd ON jobs
    FOR EACH ROW WHEN (OLD.cost_usd IS DISTINCT FROM NEW.cost_usd) EXECUTE FUNCTION baton_sum_cost();

-- The outbox of [notify] hooks: one row per change a person may want to hear about, written by
-- triggers in the transaction that makes the change, taken (once) by whichever runner delivers it.
CREATE TABLE notifications (
    id            BIGSERIAL PRIMARY KEY,
    namespace     TEXT NOT NULL,
    assignment_id TEXT NOT NULL,
    job_id        TEXT,
    event         TEXT NOT NULL,   -- 'blocked' | 'complete' | 'failed_job'
    created_at    BIGINT NOT NULL,
    taken_at      BIGINT
);
CREATE INDEX notifications_waiting ON notifications(namespace, id) WHERE taken_at IS NULL;

CREATE FUNCTION baton_notify_assignment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications(namespace, assignment_id, event, created_at)
        VALUES (NEW.namespace, NEW.id, NEW.status, NEW.updated_at);
    RETURN NULL;
END
$$;
CREATE TRIGGER assignments_notify AFTER UPDATE OF status ON assignments FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('blocked', 'complete'))
    EXECUTE FUNCTION baton_notify_assignment();

CREATE FUNCTION baton_notify_failed_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications(namespace, assignment_id, job_id, event, created_at)
        VALUES (NEW.namespace, NEW.assignment_id, NEW.id, 'failed_job', COALESCE(NEW.finished_at, 0));
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_notify_failed AFTER UPDATE OF status ON jobs FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status = 'failed')
    EXECUTE FUNCTION baton_notify_failed_job();
