-- A runner that is told to stop (SIGTERM from Slurm at its time limit, Ctrl-C) finishes
-- the jobs in hand within its grace period and gives back those it cannot finish: they
-- are queued again at once, without waiting for the lease to lapse, and the attempt does
-- not count against max_attempts (the job did nothing wrong). A give-back is fenced by the
-- claim's token like a completion, so a claim that lapsed meanwhile is left alone.
ALTER TABLE job_attempt_log DROP CONSTRAINT job_attempt_outcome_check;
ALTER TABLE job_attempt_log ADD CONSTRAINT job_attempt_outcome_check CHECK (outcome IN (
    'DONE', 'STANDBY', 'FAILED', 'CRASHED', 'TIMEOUT', 'OUT_OF_MEMORY', 'LEASE_EXPIRED', 'CANCELLED', 'RELEASED'));
COMMENT ON COLUMN job_attempt_log.outcome IS
    'DONE, STANDBY, FAILED, CRASHED, TIMEOUT, OUT_OF_MEMORY, LEASE_EXPIRED, CANCELLED, or RELEASED (given back by a stopping runner)';

-- Its functions, views and triggers are in schema/functions/ (re-applied when they change).
