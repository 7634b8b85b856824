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

CREATE FUNCTION job_give_back(p_ids bigint[], p_tokens bigint[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    WITH back AS (
        SELECT j.id, j.attempts, j.token, j.runner_id, j.phase, j.ts_started FROM job j
        JOIN unnest(p_ids, p_tokens) AS u(id, token) ON j.id = u.id AND j.token = u.token
        WHERE j.status = 'RUNNING'
        ORDER BY j.id FOR UPDATE OF j
    ), logged AS (
        INSERT INTO job_attempt (job_id, attempt, token, runner_id, host, pid, phase, ts_started, ts_ended, outcome, error)
        SELECT b.id, b.attempts, b.token, b.runner_id, rn.host, rn.pid, b.phase, b.ts_started, now(), 'RELEASED',
               'the runner stopped before the job finished; queued again, this attempt not counted'
        FROM back b LEFT JOIN runner rn ON rn.id = b.runner_id
    ), queued AS (
        UPDATE job j SET status = 'QUEUED', token = NULL, attempts = greatest(j.attempts - 1, 0), not_before = NULL,
                         ts_queued = now()
        FROM back b WHERE j.id = b.id
        RETURNING j.id
    )
    SELECT array_agg(id) INTO ids FROM queued;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM job_release(ids);
    PERFORM job_enqueue(ids);
    PERFORM pg_notify('paudm_jobs', 'released');
    RETURN cardinality(ids);
END $$;
COMMENT ON FUNCTION job_give_back(bigint[], bigint[]) IS
    'Queues again, at once and without counting the attempt, jobs a stopping runner could not finish';

-- A job that failed because its own connection to the database was lost (a server
-- restart, a terminated session) did nothing wrong either: its retry comes after a second,
-- not after the back-off meant for jobs that fail on their data. (The attempt counts:
-- a database that keeps failing a job still ends it.)
CREATE FUNCTION job_retry_soon(p_ids bigint[]) RETURNS void LANGUAGE sql AS $$
    UPDATE job SET not_before = now() + interval '1 second' WHERE id = ANY (p_ids) AND status = 'QUEUED';
    UPDATE job_ready SET not_before = now() + interval '1 second' WHERE job_id = ANY (p_ids);
$$;
COMMENT ON FUNCTION job_retry_soon(bigint[]) IS 'Retries these failed jobs after a second instead of their back-off';
