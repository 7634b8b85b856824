-- The attempt history without a row per successful job. A job that ends DONE in the
-- runners' batched commit wrote an attempt row repeating what its own row says (attempt,
-- runner, phase, start, end): 12 % of the server time of 20,000 no-op jobs. Attempts are
-- now logged in job_attempt_log only when there is more to say (failures, crashes,
-- timeouts, lapsed leases, cancellations, sub-jobs created) or when the DONE came through
-- the one-by-one path; job_attempt, the view every reader uses, adds each DONE job's final
-- attempt from its job row when the log does not have it. A DONE job keeps its last token.

ALTER TABLE job_attempt RENAME TO job_attempt_log;
ALTER INDEX job_attempt_job_idx RENAME TO job_attempt_log_job_idx;
COMMENT ON TABLE job_attempt_log IS
    'Attempts with something to record: every one that did not end DONE, and DONE ones committed one by one';

-- Its functions, views and triggers are in schema/functions/ (re-applied when they change).
