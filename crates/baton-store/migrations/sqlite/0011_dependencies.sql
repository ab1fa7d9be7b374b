-- Assignments that wait for others (`create --after`): each dependency is one row, parents in
-- the order the person named them. A child is `deferred` until every parent is complete; the
-- transaction that completes or cancels a parent finds its children through the parent index.
-- `final_head` is an assignment's branch head when it completed (where a lone child's branch
-- starts); `activated_at` is when a deferred assignment started.
ALTER TABLE assignments ADD COLUMN final_head TEXT;
ALTER TABLE assignments ADD COLUMN activated_at INTEGER;

CREATE TABLE assignment_parents (
    child_id  TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (child_id, parent_id)
) WITHOUT ROWID;
CREATE INDEX assignment_parents_by_parent ON assignment_parents(parent_id, child_id);
