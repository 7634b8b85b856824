-- A claim takes as many jobs as fit a window of time, by the runner's recent run times of
-- their tasks (job_claim in schema/functions/job_engine.sql). The new arguments have
-- defaults, so runners of the earlier version still call it; the old signature goes first
-- because CREATE OR REPLACE cannot add arguments.
DROP FUNCTION IF EXISTS job_claim(bigint, integer, real, text, text, integer);
