-- Containment: the cgroup an attempt's agent ran in (so a runner taking the job over on the
-- same host can kill what is left of it), and each runner's containment mechanism.
ALTER TABLE jobs ADD COLUMN agent_cgroup TEXT;
ALTER TABLE runners ADD COLUMN containment TEXT;
