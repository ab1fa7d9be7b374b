-- `baton queue`'s idle list without walking every active assignment: each assignment keeps the
-- number of its open jobs (pending, running, or cancelled and still being stopped: what keeps
-- an active assignment from being idle), moved by triggers on `jobs`, and a partial index holds
-- the active ones at zero in idle order. With 10,000 active assignments whose few idle ones were
-- the latest, the walk visited all of them: half of a `queue` at a million jobs.

ALTER TABLE assignments ADD COLUMN open_jobs INTEGER NOT NULL DEFAULT 0;

UPDATE assignments SET open_jobs = (
    SELECT COUNT(*) FROM jobs j WHERE j.assignment_id = assignments.id
       AND (j.status IN ('pending', 'running') OR (j.status = 'cancelled' AND j.lease_token IS NOT NULL)));

CREATE INDEX assignments_idle ON assignments(namespace, updated_at, id) WHERE status = 'active' AND open_jobs = 0;

CREATE TRIGGER assignments_open_job_inserted AFTER INSERT ON jobs
WHEN NEW.status IN ('pending', 'running') OR (NEW.status = 'cancelled' AND NEW.lease_token IS NOT NULL) BEGIN
    UPDATE assignments SET open_jobs = open_jobs + 1 WHERE id = NEW.assignment_id;
END;

CREATE TRIGGER assignments_open_job_deleted AFTER DELETE ON jobs
WHEN OLD.status IN ('pending', 'running') OR (OLD.status = 'cancelled' AND OLD.lease_token IS NOT NULL) BEGIN
    UPDATE assignments SET open_jobs = open_jobs - 1 WHERE id = OLD.assignment_id;
END;

-- Only when the job's openness or its assignment changes: a claim (pending to running) writes
-- nothing here.
CREATE TRIGGER assignments_open_job_changed AFTER UPDATE OF status, lease_token, assignment_id ON jobs
WHEN (OLD.status IN ('pending', 'running') OR (OLD.status = 'cancelled' AND OLD.lease_token IS NOT NULL))
     IS NOT (NEW.status IN ('pending', 'running') OR (NEW.status = 'cancelled' AND NEW.lease_token IS NOT NULL))
  OR OLD.assignment_id IS NOT NEW.assignment_id BEGIN
    UPDATE assignments SET open_jobs = open_jobs
        - (OLD.status IN ('pending', 'running') OR (OLD.status = 'cancelled' AND OLD.lease_token IS NOT NULL))
        WHERE id = OLD.assignment_id;
    UPDATE assignments SET open_jobs = open_jobs
        + (NEW.status IN ('pending', 'running') OR (NEW.status = 'cancelled' AND NEW.lease_token IS NOT NULL))
        WHERE id = NEW.assignment_id;
END;
