-- `baton queue` hints when finished assignments keep their worktrees and no retention policy is
-- set: it counts them on every call, from this index alone, instead of reading every assignment
-- of the namespace.
CREATE INDEX assignments_finished_worktrees ON assignments (namespace)
    WHERE worktree IS NOT NULL AND status IN ('complete', 'cancelled');

-- Attempts become a rowid table. As a WITHOUT ROWID table its rows lived in an index b-tree,
-- whose cells hold at most about 1,000 bytes on a 4 KiB page: every compressed prompt longer than
-- that spilled into an overflow page of its own and left about 3 KB of it empty, the bulk of the
-- database's bytes per job. A rowid table keeps rows up to about 4 KB in its leaves.
CREATE TABLE attempts_rowid (
    job_id             TEXT NOT NULL REFERENCES jobs(id),
    n                  INTEGER NOT NULL,
    runner             TEXT,
    started_at         INTEGER NOT NULL,
    finished_at        INTEGER,
    outcome            TEXT NOT NULL,
    error_kind         TEXT,
    error              TEXT,
    prompt             BLOB,
    prompt_bytes       INTEGER,
    prompt_sha256      TEXT,
    tokens_in          INTEGER,
    tokens_out         INTEGER,
    cache_read_tokens  INTEGER,
    cache_write_tokens INTEGER,
    cost_usd           REAL,
    cost_source        TEXT,
    model              TEXT,
    PRIMARY KEY (job_id, n)
);
INSERT INTO attempts_rowid (job_id, n, runner, started_at, finished_at, outcome, error_kind, error, prompt,
    prompt_bytes, prompt_sha256, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost_usd,
    cost_source, model)
SELECT job_id, n, runner, started_at, finished_at, outcome, error_kind, error, prompt, prompt_bytes,
    prompt_sha256, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost_usd, cost_source, model
FROM attempts ORDER BY job_id, n;
DROP TABLE attempts;
ALTER TABLE attempts_rowid RENAME TO attempts;
CREATE INDEX attempts_finished_at ON attempts(finished_at);
