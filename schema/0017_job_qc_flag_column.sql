-- Each job carries its QC flag (job_qc_flag of its own checks), kept by statement triggers
-- on quality_control, so that the console's QC filter is a column test while it walks the
-- job table newest first, instead of grouping every QC entry at each filter change (a
-- plan that took 0.3-1.6 s on a million jobs). The runner writes a job's checks in the
-- transaction that ends it: the extra update is of a row it holds already, and HOT (the
-- column has no index). Jobs without checks are untouched.
ALTER TABLE job ADD COLUMN qc_flag text CHECK (qc_flag IN ('green', 'yellow', 'red'));
COMMENT ON COLUMN job.qc_flag IS
    'QC flag of the job''s own checks (job_qc_flag: green, yellow or red); NULL without checks. Kept by triggers on quality_control';

CREATE FUNCTION job_qc_flag_refresh() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE job j SET qc_flag = (SELECT q.flag FROM job_qc(j.id) q)
    WHERE j.id IN (SELECT DISTINCT c.job_id FROM changed c);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION job_qc_flag_refresh() IS 'Sets job.qc_flag of the jobs whose quality_control rows a statement wrote';

CREATE TRIGGER quality_control_flag_insert AFTER INSERT ON quality_control
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION job_qc_flag_refresh();
CREATE TRIGGER quality_control_flag_update AFTER UPDATE ON quality_control
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION job_qc_flag_refresh();

UPDATE job j SET qc_flag = s.flag
FROM (SELECT q.job_id, job_qc_flag(count(*), count(*) FILTER (WHERE NOT q.qc_pass)) AS flag
      FROM quality_control q GROUP BY q.job_id) s
WHERE j.id = s.job_id;
