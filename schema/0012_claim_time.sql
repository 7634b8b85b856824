-- A claim's start is the moment it took the job, not the start of its transaction. In
-- READ COMMITTED the query inside job_claim takes its snapshot when it runs, which can be
-- after the statement began (waiting for a CPU or a lock): with now(), a job could appear
-- to start before the parent it waited for had ended (seen once in 15 runs of a chain
-- under load).
CREATE OR REPLACE FUNCTION job_claim(p_runner bigint, p_n integer, p_lease_s real, p_tasks text, p_host text, p_pid integer)
RETURNS TABLE (id bigint, name text, phase text, config jsonb, input jsonb, token bigint, attempts integer,
               max_attempts integer, super_id bigint, timeout_s real, memory_limit_mb integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH ready AS (
        SELECT q.job_id FROM job_ready q
        WHERE (q.not_before IS NULL OR q.not_before <= now()) AND (p_tasks IS NULL OR q.name ~ p_tasks)
        ORDER BY q.priority DESC, q.job_id
        LIMIT p_n
        FOR UPDATE SKIP LOCKED
    ), taken AS (
        DELETE FROM job_ready q USING ready r WHERE q.job_id = r.job_id RETURNING q.job_id
    ), claimed AS (
        UPDATE job j SET status = 'RUNNING', token = nextval('job_token_seq'), attempts = j.attempts + 1,
                         runner_id = p_runner, ts_started = clock_timestamp()
        FROM taken t WHERE j.id = t.job_id AND j.status = 'QUEUED'
        RETURNING j.id, j.name, j.phase, j.config, j.input, j.token, j.attempts, j.max_attempts, j.super_id,
                  j.timeout_s, j.memory_limit_mb
    ), leased AS (
        INSERT INTO job_lease (runner_id, lease_expires, job_ids, tokens)
        SELECT p_runner, now() + make_interval(secs => p_lease_s), array_agg(c.id), array_agg(c.token) FROM claimed c
        HAVING count(*) > 0
    )
    SELECT * FROM claimed;
END $$;
