-- A cancelled job keeps its lease until its runner confirms the agent stopped (`stopping`), and
-- the ready rule counts such a job like a running one (`engine::stopping::holds_assignment`):
-- the PM queued after the cancel never starts while the stopped agent may still write in the
-- worktree.
--
-- Stopping jobs are few and short-lived: the partial index holds only them, for the ready
-- rule's probe per assignment, the expiry sweep of each claim and the next deadline.
CREATE INDEX jobs_stopping ON jobs(namespace, assignment_id, lease_expires_at)
    WHERE status = 'cancelled' AND lease_token IS NOT NULL;

-- The queue heads' rule, with the stopping jobs (the triggers of 0014 read the view by name).
DROP VIEW queue_head_of;
CREATE VIEW queue_head_of AS
    SELECT a.id AS assignment_id, a.namespace, a.created_at, j.id AS job_id, j.not_before
    FROM assignments a JOIN jobs j ON j.id = (
        SELECT id FROM jobs WHERE assignment_id = a.id AND status = 'pending' ORDER BY position, id LIMIT 1)
    WHERE a.status = 'active'
      AND NOT EXISTS (SELECT 1 FROM jobs WHERE assignment_id = a.id AND status = 'running')
      AND NOT EXISTS (SELECT 1 FROM jobs WHERE namespace = a.namespace AND assignment_id = a.id
                      AND status = 'cancelled' AND lease_token IS NOT NULL);

-- The stop confirmed (or its lease expired) frees the assignment: only the lease changes then.
-- A claim or a cancel changes the status in the same statement and is recomputed by
-- `queue_heads_job_changed` already.
CREATE TRIGGER queue_heads_stop_ended AFTER UPDATE OF lease_token ON jobs
    WHEN OLD.status = 'cancelled' AND NEW.status = 'cancelled' AND OLD.lease_token IS NOT NULL
     AND NEW.lease_token IS NULL BEGIN
    DELETE FROM queue_heads WHERE assignment_id = NEW.assignment_id;
    INSERT INTO queue_heads SELECT * FROM queue_head_of WHERE assignment_id = NEW.assignment_id;
END;
