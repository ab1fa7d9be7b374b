-- `baton queue` without scanning open work: the ready-rule head of every assignment, kept by
-- triggers, and the number of heads per namespace.
--
-- A head is the first pending job (by position) of an active assignment with no running job
-- (the ready rule without the back-off check). Every write that can change an assignment's head
-- recomputes that one assignment's row from its chain (a few index probes), so `queue` reads
-- its lists as index range scans bounded by the print limit, its ready total as the counter
-- minus the heads still backing off (only those carry `not_before`).

CREATE TABLE queue_heads (
    assignment_id TEXT PRIMARY KEY,
    namespace     TEXT NOT NULL,
    created_at    INTEGER NOT NULL,  -- the assignment's: heads list oldest assignment first
    job_id        TEXT NOT NULL,
    not_before    INTEGER
);
CREATE INDEX queue_heads_order ON queue_heads(namespace, created_at, assignment_id);
CREATE INDEX queue_heads_timed ON queue_heads(namespace, not_before) WHERE not_before IS NOT NULL;

CREATE TABLE queue_head_counts (
    namespace TEXT PRIMARY KEY,
    n         INTEGER NOT NULL
);

CREATE TRIGGER queue_heads_counted AFTER INSERT ON queue_heads BEGIN
    INSERT INTO queue_head_counts(namespace, n) VALUES (NEW.namespace, 1)
        ON CONFLICT(namespace) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER queue_heads_uncounted AFTER DELETE ON queue_heads BEGIN
    UPDATE queue_head_counts SET n = n - 1 WHERE namespace = OLD.namespace;
END;

-- The head of each assignment that has one, in `queue_heads`' column order: the rule written once
-- for every trigger below (SQLite folds the view into each trigger's query, so the
-- `assignment_id = …` filter still probes the one assignment by its key).
CREATE VIEW queue_head_of AS
    SELECT a.id AS assignment_id, a.namespace, a.created_at, j.id AS job_id, j.not_before
    FROM assignments a JOIN jobs j ON j.id = (
        SELECT id FROM jobs WHERE assignment_id = a.id AND status = 'pending' ORDER BY position, id LIMIT 1)
    WHERE a.status = 'active'
      AND NOT EXISTS (SELECT 1 FROM jobs WHERE assignment_id = a.id AND status = 'running');

CREATE TRIGGER queue_heads_job_inserted AFTER INSERT ON jobs BEGIN
    DELETE FROM queue_heads WHERE assignment_id = NEW.assignment_id;
    INSERT INTO queue_heads SELECT * FROM queue_head_of WHERE assignment_id = NEW.assignment_id;
END;
CREATE TRIGGER queue_heads_job_changed AFTER UPDATE OF status, position, not_before, assignment_id ON jobs BEGIN
    DELETE FROM queue_heads WHERE assignment_id = NEW.assignment_id;
    INSERT INTO queue_heads SELECT * FROM queue_head_of WHERE assignment_id = NEW.assignment_id;
END;
-- A job moved to another assignment (not done today) changes the head it left too.
CREATE TRIGGER queue_heads_job_moved AFTER UPDATE OF assignment_id ON jobs
    WHEN OLD.assignment_id IS NOT NEW.assignment_id BEGIN
    DELETE FROM queue_heads WHERE assignment_id = OLD.assignment_id;
    INSERT INTO queue_heads SELECT * FROM queue_head_of WHERE assignment_id = OLD.assignment_id;
END;
CREATE TRIGGER queue_heads_job_deleted AFTER DELETE ON jobs BEGIN
    DELETE FROM queue_heads WHERE assignment_id = OLD.assignment_id;
    INSERT INTO queue_heads SELECT * FROM queue_head_of WHERE assignment_id = OLD.assignment_id;
END;
CREATE TRIGGER queue_heads_assignment_inserted AFTER INSERT ON assignments BEGIN
    DELETE FROM queue_heads WHERE assignment_id = NEW.id;
    INSERT INTO queue_heads SELECT * FROM queue_head_of WHERE assignment_id = NEW.id;
END;
CREATE TRIGGER queue_heads_assignment_changed AFTER UPDATE OF status, created_at, namespace ON assignments BEGIN
    DELETE FROM queue_heads WHERE assignment_id = NEW.id;
    INSERT INTO queue_heads SELECT * FROM queue_head_of WHERE assignment_id = NEW.id;
END;
CREATE TRIGGER queue_heads_assignment_deleted AFTER DELETE ON assignments BEGIN
    DELETE FROM queue_heads WHERE assignment_id = OLD.id;
END;

-- The heads of the work already stored.
INSERT INTO queue_heads SELECT * FROM queue_head_of;

-- The longest-blocked assignments `queue` lists, read in order up to the print limit instead of
-- sorting every blocked assignment.
CREATE INDEX assignments_by_status_updated ON assignments(namespace, status, updated_at, id);
