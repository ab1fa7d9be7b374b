-- A cancelled job keeps its lease until its runner confirms the agent stopped (`stopping`), and
-- the ready rule counts such a job like a running one (`engine::stopping::holds_assignment`).
-- Stopping jobs are few and short-lived: the partial index holds only them, for the ready
-- rule's probe per assignment, the expiry sweep of each claim and the next deadline.
CREATE INDEX jobs_stopping ON jobs(namespace, assignment_id, lease_expires_at)
    WHERE status = 'cancelled' AND lease_token IS NOT NULL;
