-- A transcript some of whose events could not be stored (a full disk, a database error): why,
-- so people see that the transcript is incomplete instead of trusting a short one. NULL: complete.
ALTER TABLE jobs ADD COLUMN transcript_error TEXT;
