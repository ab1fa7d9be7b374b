-- Schedules: a cron pattern in a time zone that creates an assignment at each slot. Runners fire
-- them; the row decides who: a fire moves `next_fire_at` with a compare-and-set on the value it
-- read, so exactly one runner per slot creates anything, however many share the database.
CREATE TABLE schedules (
    id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    cron TEXT NOT NULL,
    timezone TEXT NOT NULL,
    north_star TEXT NOT NULL,
    overlap TEXT NOT NULL DEFAULT 'skip' CHECK (overlap IN ('skip', 'queue')),
    paused INTEGER NOT NULL DEFAULT 0,
    next_fire_at BIGINT NOT NULL,
    last_fired_at BIGINT,
    last_assignment_id TEXT,
    -- What each created assignment looks like (`create`'s options; config defaults apply at fire).
    first_type TEXT,
    harness TEXT,
    model TEXT,
    effort TEXT,
    context TEXT NOT NULL DEFAULT '',
    budget_usd REAL,
    budget_tokens BIGINT,
    max_jobs INTEGER,
    base TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX schedules_by_namespace ON schedules (namespace, next_fire_at);
-- Each fire: the slot (NULL on demand), the assignment created or why none was, and by whom.
CREATE TABLE schedule_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    slot_at BIGINT,
    fired_at BIGINT NOT NULL,
    assignment_id TEXT,
    skipped TEXT,
    by_whom TEXT NOT NULL
);
CREATE INDEX schedule_runs_by_schedule ON schedule_runs (schedule_id, id);
