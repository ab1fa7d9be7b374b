-- `baton queue` hints when finished assignments keep their worktrees and no retention policy is
-- set: it counts them on every call, from this index alone, instead of reading every assignment
-- of the namespace.
CREATE INDEX assignments_finished_worktrees ON assignments (namespace)
    WHERE worktree IS NOT NULL AND status IN ('complete', 'cancelled');
