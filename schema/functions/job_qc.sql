-- The QC flag of a job, as the Operations panel shows it, and the triggers that keep it
-- on the job row. A repeatable migration: this file is the one current definition of
-- what it holds, applied again (after every versioned migration) when its text changes.
-- Edit it in place; a change of a function's arguments or result type needs a DROP in a
-- new versioned migration first (CREATE OR REPLACE cannot change them).

-- The QC flag the Operations panel shows for a job (the paper's green / yellow / red of
-- section 7.2): green when every check of the job passed, yellow for a partial failure
-- (some checks failed, at most half of them), red when most failed (a job with a single
-- check is red when it fails). NULL: the job has no QC entry. One definition, used by the
-- listing and by the filter, so that the two cannot disagree.
CREATE OR REPLACE FUNCTION job_qc_flag(checks bigint, failed bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN checks = 0 THEN NULL
                WHEN failed = 0 THEN 'green'
                WHEN 2 * failed <= checks THEN 'yellow'
                ELSE 'red' END;
COMMENT ON FUNCTION job_qc_flag(bigint, bigint) IS
    'QC flag from a job''s number of checks and of failed checks: green (none failed), yellow (at most half), red (most); NULL without checks';

-- The Operations flag with warnings: green when every check passed; red when most failed
-- outright; yellow for anything in between (warnings, or a minority of failures).
CREATE OR REPLACE FUNCTION job_qc_flag(checks bigint, not_passed bigint, failed bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN checks = 0 THEN NULL
                WHEN not_passed = 0 THEN 'green'
                WHEN 2 * failed > checks THEN 'red'
                ELSE 'yellow' END;
COMMENT ON FUNCTION job_qc_flag(bigint, bigint, bigint) IS
    'QC flag from a job''s checks: green (all passed), red (most failed), yellow (warnings or fewer failures); NULL without checks';

CREATE OR REPLACE FUNCTION job_qc(job_id bigint, OUT checks bigint, OUT failed bigint, OUT flag text)
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT count(*), count(*) FILTER (WHERE NOT q.qc_pass),
           job_qc_flag(count(*), count(*) FILTER (WHERE NOT q.qc_pass),
                       count(*) FILTER (WHERE coalesce(q.level, CASE WHEN q.qc_pass THEN 'pass' ELSE 'fail' END) = 'fail'))
    FROM quality_control q WHERE q.job_id = $1
$$;
COMMENT ON FUNCTION job_qc(bigint) IS
    'A job''s number of QC checks, of checks that did not pass cleanly, and its QC flag (job_qc_flag)';

CREATE OR REPLACE FUNCTION job_qc_flag_refresh() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE job j SET qc_flag = (SELECT q.flag FROM job_qc(j.id) q)
    WHERE j.id IN (SELECT DISTINCT c.job_id FROM changed c);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION job_qc_flag_refresh() IS 'Sets job.qc_flag of the jobs whose quality_control rows a statement wrote';

CREATE OR REPLACE TRIGGER quality_control_flag_insert AFTER INSERT ON quality_control
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION job_qc_flag_refresh();

CREATE OR REPLACE TRIGGER quality_control_flag_update AFTER UPDATE ON quality_control
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION job_qc_flag_refresh();
