-- Each job carries its QC flag (job_qc_flag of its own checks), kept by statement triggers
-- on quality_control, so that the console's QC filter is a column test while it walks the
-- job table newest first, instead of grouping every QC entry at each filter change (a
-- plan that took 0.3-1.6 s on a million jobs). The runner writes a job's checks in the
-- transaction that ends it: the extra update is of a row it holds already, and HOT (the
-- column has no index). Jobs without checks are untouched.
ALTER TABLE job ADD COLUMN qc_flag text CHECK (qc_flag IN ('green', 'yellow', 'red'));
COMMENT ON COLUMN job.qc_flag IS
    'QC flag of the job''s own checks (job_qc_flag: green, yellow or red); NULL without checks. Kept by triggers on quality_control';

-- The flags of the jobs that had checks already (the rule of job_qc_flag at the time,
-- written out: a versioned migration does not call what schema/functions/ defines).
UPDATE job j SET qc_flag = CASE WHEN s.failed = 0 THEN 'green' WHEN 2 * s.failed <= s.checks THEN 'yellow' ELSE 'red' END
FROM (SELECT q.job_id, count(*) AS checks, count(*) FILTER (WHERE NOT q.qc_pass) AS failed
      FROM quality_control q GROUP BY q.job_id) s
WHERE j.id = s.job_id;

-- Its functions, views and triggers are in schema/functions/ (re-applied when they change).
