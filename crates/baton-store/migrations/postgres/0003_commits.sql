-- The work lands: where an assignment's branch came from (the branch to merge into, the commit it
-- started at), the context its person gave at create (shown to every job), the commit a person
-- merged it with, and the warnings a job leaves for its PM (files left out of a checkpoint, a
-- refused hook, a stale lock removed).
ALTER TABLE assignments ADD COLUMN base_branch TEXT;
ALTER TABLE assignments ADD COLUMN base_commit TEXT;
ALTER TABLE assignments ADD COLUMN context TEXT NOT NULL DEFAULT '';
ALTER TABLE assignments ADD COLUMN merged_commit TEXT;
CREATE TABLE job_warnings (
    id      BIGSERIAL PRIMARY KEY,
    job_id  TEXT NOT NULL REFERENCES jobs(id),
    attempt INTEGER NOT NULL,
    at      BIGINT NOT NULL,
    text    TEXT NOT NULL
);
CREATE INDEX job_warnings_by_job ON job_warnings (job_id, at);
