-- The QC flag the Operations panel shows for a job (the paper's green / yellow / red of
-- section 7.2): green when every check of the job passed, yellow for a partial failure
-- (some checks failed, at most half of them), red when most failed (a job with a single
-- check is red when it fails). NULL: the job has no QC entry. One definition, used by the
-- listing and by the filter, so that the two cannot disagree.
CREATE FUNCTION job_qc_flag(checks bigint, failed bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN checks = 0 THEN NULL
                WHEN failed = 0 THEN 'green'
                WHEN 2 * failed <= checks THEN 'yellow'
                ELSE 'red' END;
COMMENT ON FUNCTION job_qc_flag(bigint, bigint) IS
    'QC flag from a job''s number of checks and of failed checks: green (none failed), yellow (at most half), red (most); NULL without checks';

CREATE FUNCTION job_qc(job_id bigint, OUT checks bigint, OUT failed bigint, OUT flag text)
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT count(*), count(*) FILTER (WHERE NOT q.qc_pass),
           job_qc_flag(count(*), count(*) FILTER (WHERE NOT q.qc_pass))
    FROM quality_control q WHERE q.job_id = $1
$$;
COMMENT ON FUNCTION job_qc(bigint) IS 'A job''s number of QC checks, of failed checks, and its QC flag (job_qc_flag)';
