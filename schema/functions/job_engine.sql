-- The job engine's state transitions, kept in the database so that each one is a single
-- round trip and holds under any number of concurrent runners. Row locks are taken in
-- one order (the job, its dependents, its super-job) to keep deadlocks rare; callers
-- retry a transaction that loses a deadlock anyway.
--
-- A repeatable migration: this file is the one current definition of the engine's
-- functions, views and triggers, applied again (after every versioned migration) when its
-- text changes. Edit it in place; a change of a function's arguments or result type, or
-- of a view's columns, needs a DROP in a new versioned migration first (CREATE OR REPLACE
-- cannot change them). The tables are in the numbered migrations of schema/.

-- Jobs reachable from p_root through "sub-job of" and "depends on", p_root included.
CREATE OR REPLACE FUNCTION job_closure(p_root bigint) RETURNS TABLE (id bigint) LANGUAGE sql STABLE AS $$
    WITH RECURSIVE s(id) AS (
        SELECT p_root
        UNION
        SELECT j.id FROM s
        LEFT JOIN dependency d ON d.parent_id = s.id
        JOIN job j ON (j.super_id = s.id OR j.id = d.child_id)
    )
    SELECT id FROM s
$$;
COMMENT ON FUNCTION job_closure(bigint) IS 'A job with all its sub-jobs and dependents, recursively';

-- Puts the given jobs that are QUEUED with every parent DONE into the ready queue (or
-- updates their back-off there). Every transition that may make a job ready calls it.
CREATE OR REPLACE FUNCTION job_enqueue(p_ids bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO job_ready (job_id, priority, name, not_before)
    SELECT id, priority, name, not_before FROM job
    WHERE id = ANY (p_ids) AND status = 'QUEUED' AND unfinished_parents = 0
    ORDER BY id
    ON CONFLICT (job_id) DO UPDATE SET priority = excluded.priority, not_before = excluded.not_before
$$;
COMMENT ON FUNCTION job_enqueue(bigint[]) IS 'Adds the ready ones among these jobs to the ready queue';

-- Marks unfinished jobs CANCELLED and does the bookkeeping of the super-jobs left
-- outside the set. Returns how many changed. Runners holding one of them notice on the
-- paudm_abort notification and stop it; their late commit fails the fencing check.
CREATE OR REPLACE FUNCTION job_cancel(p_ids bigint[], p_reason text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    supers bigint[];
    r record;
BEGIN
    WITH victims AS (
        SELECT j.id, j.status, j.token, j.attempts, j.runner_id, j.phase, j.ts_started FROM job j
        WHERE j.id = ANY (p_ids) AND j.status NOT IN ('DONE', 'FAILED', 'CANCELLED')
        ORDER BY j.id FOR UPDATE
    ), done AS (
        UPDATE job j SET status = 'CANCELLED', ts_ended = now(), token = NULL
        FROM victims v WHERE j.id = v.id
        RETURNING j.id, j.super_id
    ), interrupted AS (
        INSERT INTO job_attempt (job_id, attempt, token, runner_id, host, pid, phase, ts_started, ts_ended, outcome, error)
        SELECT v.id, v.attempts, v.token, v.runner_id, rn.host, rn.pid, v.phase, v.ts_started, now(), 'CANCELLED', p_reason
        FROM victims v LEFT JOIN runner rn ON rn.id = v.runner_id WHERE v.status = 'RUNNING'
    )
    SELECT array_agg(done.id), array_agg(done.super_id) INTO ids, supers FROM done;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM job_ready WHERE job_id = ANY (ids);
    PERFORM job_release(ids);
    INSERT INTO tag (job_id, name, value)
    SELECT unnest(ids), 'cancelled', p_reason
    ON CONFLICT (job_id, name) DO UPDATE SET value = excluded.value;
    -- Super-jobs outside the cancelled set lose these sub-jobs from their count.
    FOR r IN SELECT sup, count(*) AS k FROM unnest(supers) AS sup
             WHERE sup IS NOT NULL AND sup <> ALL (ids) GROUP BY sup ORDER BY sup LOOP
        PERFORM job_subjobs_finished(r.sup, r.k::integer, 'CANCELLED');
    END LOOP;
    PERFORM pg_notify('paudm_abort', cardinality(ids)::text);
    PERFORM pg_notify('paudm_jobs', 'cancelled');
    RETURN cardinality(ids);
END $$;
COMMENT ON FUNCTION job_cancel(bigint[], text) IS 'Cancels the unfinished jobs among the given ones';

-- Called when p_k sub-jobs of p_super reached a terminal state.
--
-- on_subjob_failure 'continue': the super-job's epilog runs when its sub-jobs have all
-- finished, whatever their outcome (the nightly job says what could not be reduced and
-- still records the QC of what was). 'wait' (the default) fails the super-job instead,
-- 'cancel' cancels the remaining sub-jobs at the first failure.
CREATE OR REPLACE FUNCTION job_subjobs_finished(p_super bigint, p_k integer, p_status text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    sup record;
    bad integer;
    total integer;
    siblings bigint[];
BEGIN
    UPDATE job SET unfinished_subjobs = greatest(unfinished_subjobs - p_k, 0) WHERE id = p_super
    RETURNING id, status, unfinished_subjobs, config INTO sup;
    IF sup.id IS NULL OR sup.status <> 'STANDBY' THEN
        RETURN;
    END IF;
    IF p_status = 'FAILED' AND sup.unfinished_subjobs > 0 AND sup.config ->> 'on_subjob_failure' = 'cancel' THEN
        SELECT array_agg(c.id) INTO siblings FROM job j, job_closure(j.id) c
        WHERE j.super_id = p_super AND j.status NOT IN ('DONE', 'FAILED', 'CANCELLED');
        IF job_cancel(siblings, 'a sibling sub-job failed (on_subjob_failure: cancel)') > 0 THEN
            RETURN; -- job_cancel came back here for the cancelled siblings
        END IF;
    END IF;
    IF sup.unfinished_subjobs > 0 THEN
        RETURN;
    END IF;
    SELECT count(*) FILTER (WHERE status <> 'DONE'), count(*) INTO bad, total FROM job WHERE super_id = p_super;
    IF bad > 0 AND coalesce(sup.config ->> 'on_subjob_failure', 'wait') <> 'continue' THEN
        UPDATE job SET status = 'FAILED', ts_ended = now(), token = NULL WHERE id = p_super;
        INSERT INTO tag (job_id, name, value)
        VALUES (p_super, 'traceback', format('%s of %s sub-jobs did not finish', bad, total))
        ON CONFLICT (job_id, name) DO UPDATE SET value = excluded.value;
        PERFORM job_after_terminal(p_super);
    ELSE
        UPDATE job SET status = 'QUEUED', phase = 'epilog', attempts = 0, not_before = NULL, ts_queued = now()
        WHERE id = p_super;
        PERFORM job_enqueue(ARRAY[p_super]);
        PERFORM pg_notify('paudm_jobs', 'ready');
    END IF;
END $$;
COMMENT ON FUNCTION job_subjobs_finished(bigint, integer, text) IS
    'Bookkeeping of a super-job when sub-jobs finish: queue its epilog, or fail it';

-- The given jobs are DONE: their dependents each have one unfinished parent less, and
-- those left with none join the ready queue.
CREATE OR REPLACE FUNCTION job_parents_done(p_ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    unblocked bigint[];
BEGIN
    WITH u AS (
        UPDATE job c SET unfinished_parents = c.unfinished_parents - x.n
        FROM (SELECT child_id, count(*)::integer AS n FROM dependency WHERE parent_id = ANY (p_ids)
              GROUP BY child_id) x
        WHERE c.id = x.child_id AND c.unfinished_parents > 0
        RETURNING c.id, c.unfinished_parents
    )
    SELECT array_agg(u.id) FILTER (WHERE u.unfinished_parents = 0) INTO unblocked FROM u;
    IF unblocked IS NOT NULL THEN
        PERFORM job_enqueue(unblocked);
        PERFORM pg_notify('paudm_jobs', 'ready');
    END IF;
END $$;
COMMENT ON FUNCTION job_parents_done(bigint[]) IS 'Unblocks the dependents of jobs that are DONE';

-- Bookkeeping after a job became DONE, FAILED or CANCELLED (its row is already updated).
CREATE OR REPLACE FUNCTION job_after_terminal(p_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    j record;
    dependents bigint[];
BEGIN
    SELECT id, status, super_id INTO j FROM job WHERE id = p_id;
    IF j.status = 'DONE' THEN
        PERFORM job_parents_done(ARRAY[p_id]);
    ELSE
        -- Its dependents can never run now.
        SELECT array_agg(c.id) INTO dependents FROM dependency d, job_closure(d.child_id) c WHERE d.parent_id = p_id;
        IF dependents IS NOT NULL THEN
            PERFORM job_cancel(dependents, format('job %s, which it depends on, ended %s', p_id, j.status));
        END IF;
    END IF;
    IF j.super_id IS NOT NULL THEN
        PERFORM job_subjobs_finished(j.super_id, 1, j.status);
    END IF;
    -- One payload for all: PostgreSQL folds identical notifications of a transaction into one.
    PERFORM pg_notify('paudm_jobs', 'ended');
END $$;
COMMENT ON FUNCTION job_after_terminal(bigint) IS 'Propagates a job''s end to its dependents and its super-job';

-- Claims up to p_n ready jobs for a runner. Ready: QUEUED, every parent DONE, past any
-- retry back-off, and (if p_tasks is given) a task name matching that regular expression.
-- The claim lives on the job row (token, runner, start, lease); its job_attempt row is
-- written when it ends, whichever way (completion, failure, lapse, cancellation).
--
-- A claim's start is the moment it took the job, not the start of its transaction. In
-- READ COMMITTED the query inside job_claim takes its snapshot when it runs, which can be
-- after the statement began (waiting for a CPU or a lock): with now(), a job could appear
-- to start before the parent it waited for had ended (seen once in 15 runs of a chain
-- under load).
--
-- How many a claim takes is the runner's judgement of time: p_window seconds of work at
-- most, each job costing the runner's recent mean run time of its task (p_names/p_costs),
-- a task it has no figure for costing the whole window (so it takes one such job and
-- learns). The first job is always taken. Without p_window: up to p_n jobs, whatever
-- they cost. So a runner holds no job that another idle runner could start now for
-- longer than the window, and short jobs still come in large batches.
--
-- The ready queue is read in its index's order and stops after p_n rows. Its statistics
-- lag behind it (a prolog fills it with thousands of rows in a moment), and the planner
-- judges a runner's task pattern to match under 1 % of the rows: it then read and sorted
-- the whole queue, 23 of a 256-job claim's 25 ms with 20,000 ready. Without sequential
-- scans the ordered index scan is the plan whatever the statistics say; every other part
-- of the claim reads by key.
CREATE OR REPLACE FUNCTION job_claim(p_runner bigint, p_n integer, p_lease_s real, p_tasks text, p_host text, p_pid integer,
                                     p_window real DEFAULT NULL, p_names text[] DEFAULT NULL, p_costs real[] DEFAULT NULL)
RETURNS TABLE (id bigint, name text, phase text, config jsonb, input jsonb, token bigint, attempts integer,
               max_attempts integer, super_id bigint, timeout_s real, memory_limit_mb integer)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH ready AS (
        SELECT q.job_id, q.name, q.priority FROM job_ready q
        WHERE (q.not_before IS NULL OR q.not_before <= now()) AND (p_tasks IS NULL OR q.name ~ p_tasks)
        ORDER BY q.priority DESC, q.job_id
        LIMIT p_n
        FOR UPDATE SKIP LOCKED
    ), budget AS (
        SELECT r.job_id,
               sum(coalesce(e.cost, p_window)) OVER (ORDER BY r.priority DESC, r.job_id)
                   - coalesce(e.cost, p_window) AS before
        FROM ready r LEFT JOIN unnest(p_names, p_costs) AS e(name, cost) ON e.name = r.name
    ), taken AS (
        -- By key: as a join with budget the planner read the whole ready queue (2.9 of a
        -- 256-job claim's 6.4 ms with 20,000 ready).
        DELETE FROM job_ready q
        WHERE q.job_id = ANY (ARRAY(SELECT b.job_id FROM budget b WHERE p_window IS NULL OR b.before < p_window))
        RETURNING q.job_id
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
COMMENT ON FUNCTION job_claim(bigint, integer, real, text, text, integer, real, text[], real[]) IS
    'Claims ready jobs for a runner: at most p_n, and at most p_window seconds of them by the given task costs';

-- What an idle runner needs to know to wait without polling: whether jobs of its tasks are
-- ready now (a claim that found none lost a race for them: claim again), whether any
-- claim is in progress anywhere (it may create work), and in how many seconds the first
-- job of its tasks comes out of its retry back-off. Two small tables: cheap at any size.
CREATE OR REPLACE FUNCTION job_queue_state(p_tasks text, OUT ready_now boolean, OUT claims boolean,
                                           OUT next_ready_s real)
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM job_ready q WHERE (q.not_before IS NULL OR q.not_before <= now())
                                               AND (p_tasks IS NULL OR q.name ~ p_tasks)),
           EXISTS (SELECT 1 FROM job_lease),
           (SELECT extract(epoch FROM min(q.not_before) - now())::real FROM job_ready q
            WHERE q.not_before > now() AND (p_tasks IS NULL OR q.name ~ p_tasks))
$$;
COMMENT ON FUNCTION job_queue_state(text) IS
    'For an idle runner: jobs of these tasks ready now, any claim in progress, seconds until the next back-off ends';

-- Locks a claimed job and checks the runner still holds it (fencing). Everything a runner
-- commits for a job happens after this, in the same transaction.
CREATE OR REPLACE FUNCTION job_fence(p_id bigint, p_token bigint) RETURNS boolean LANGUAGE sql AS $$
    SELECT EXISTS (SELECT 1 FROM job WHERE id = p_id AND token = p_token AND status = 'RUNNING' FOR UPDATE)
$$;

-- Ends a claim. p_status: DONE, STANDBY (the prolog created p_subjobs sub-jobs) or FAILED
-- (retried while attempts remain and p_retry). Returns false if the claim was lost.
CREATE OR REPLACE FUNCTION job_complete(p_id bigint, p_token bigint, p_status text, p_output jsonb, p_error text,
                             p_outcome text, p_subjobs integer, p_retry boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    j record;
BEGIN
    SELECT * INTO j FROM job WHERE id = p_id AND token = p_token AND status = 'RUNNING' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO job_attempt (job_id, attempt, token, runner_id, host, pid, phase, ts_started, ts_ended, outcome, error)
    SELECT j.id, j.attempts, j.token, j.runner_id, rn.host, rn.pid, j.phase, j.ts_started, now(), p_outcome, p_error
    FROM (SELECT 1) one LEFT JOIN runner rn ON rn.id = j.runner_id;
    PERFORM job_release(ARRAY[p_id]);
    IF p_status = 'STANDBY' THEN
        UPDATE job SET status = 'STANDBY', phase = 'epilog', unfinished_subjobs = unfinished_subjobs + p_subjobs,
                       token = NULL,
                       output = coalesce(p_output, output)
        WHERE id = p_id;
        -- Sub-jobs that finished already (none yet, normally) are accounted for by the count.
        RETURN true;
    ELSIF p_status = 'FAILED' AND p_retry AND j.attempts < j.max_attempts THEN
        UPDATE job SET status = 'QUEUED', token = NULL,
                       not_before = now() + make_interval(secs => j.retry_delay_s * 2 ^ (j.attempts - 1)),
                       ts_queued = now()
        WHERE id = p_id;
        PERFORM job_enqueue(ARRAY[p_id]);
        PERFORM pg_notify('paudm_jobs', 'retry');
        RETURN true;
    END IF;
    UPDATE job SET status = p_status, output = coalesce(p_output, output), ts_ended = now(),
                   token = NULL
    WHERE id = p_id;
    IF p_status = 'DONE' THEN
        DELETE FROM tag WHERE job_id = p_id AND name = 'traceback'; -- an earlier attempt's; the history keeps it
    END IF;
    PERFORM job_after_terminal(p_id);
    RETURN true;
END $$;
COMMENT ON FUNCTION job_complete(bigint, bigint, text, jsonb, text, text, integer, boolean) IS
    'Ends a claim: DONE, STANDBY (sub-jobs created) or FAILED (retried while attempts remain)';

-- Ends many claims in one statement: the runner's batched commit. Returns the ids whose
-- claim was lost (their results are discarded).
--
-- A notification is a lock on the database's notification queue until commit: every
-- batch's 'ended' serialised the runners' commits (measured: 4 runner threads 27 % slower
-- than without it). Runners need only 'ready', which job_parents_done and
-- job_subjobs_finished still send; observers see runners' progress in their heartbeats.
--
-- The batched commit: DONE jobs write no attempt row and keep their token.
CREATE OR REPLACE FUNCTION job_complete_many(p_ids bigint[], p_tokens bigint[], p_status text[], p_outputs jsonb[],
                                  p_errors text[], p_outcomes text[], p_subjobs integer[], p_retry boolean[])
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    lost bigint[] := '{}';
    done_ids bigint[];
    retried_ids bigint[];
    supers bigint[];
    r record;
    k integer;
BEGIN
    -- The common case, set-based: plain DONE (no sub-jobs). Rows whose claim lapsed do not match.
    WITH input AS (
        SELECT * FROM unnest(p_ids, p_tokens, p_status, p_outputs, p_subjobs) AS i(id, token, status, output, subjobs)
        WHERE i.status = 'DONE' AND i.subjobs = 0
    ), done AS (
        UPDATE job j SET status = 'DONE', output = coalesce(i.output, j.output), ts_ended = now()
        FROM input i WHERE j.id = i.id AND j.token = i.token AND j.status = 'RUNNING'
        RETURNING j.id, i.token, j.attempts, j.runner_id, j.phase, j.ts_started, j.super_id
    )
    SELECT array_agg(done.id), array_agg(done.id) FILTER (WHERE done.attempts > 1),
           array_agg(done.super_id) FILTER (WHERE done.super_id IS NOT NULL)
    INTO done_ids, retried_ids, supers FROM done;
    done_ids := coalesce(done_ids, '{}');
    IF cardinality(done_ids) > 0 THEN
        PERFORM job_release(done_ids);
        IF retried_ids IS NOT NULL THEN
            DELETE FROM tag WHERE job_id = ANY (retried_ids) AND name = 'traceback'; -- left by a failed attempt
        END IF;
        PERFORM job_parents_done(done_ids);
    END IF;
    -- The rest one by one: failures (retries, cascades), STANDBY, and lapsed claims.
    FOR k IN SELECT u.k FROM unnest(p_ids) WITH ORDINALITY AS u(id, k) WHERE NOT (u.id = ANY (done_ids)) LOOP
        IF NOT job_complete(p_ids[k], p_tokens[k], p_status[k], p_outputs[k], p_errors[k], p_outcomes[k],
                            p_subjobs[k], p_retry[k]) THEN
            lost := lost || p_ids[k];
        END IF;
    END LOOP;
    -- The super-jobs' counters last: their rows are what concurrent batches of one fan-out
    -- wait for, from here to the commit.
    FOR r IN SELECT sup, count(*)::integer AS k FROM unnest(supers) AS sup GROUP BY sup ORDER BY sup LOOP
        PERFORM job_subjobs_finished(r.sup, r.k, 'DONE');
    END LOOP;
    RETURN lost;
END $$;
COMMENT ON FUNCTION job_complete_many(bigint[], bigint[], text[], jsonb[], text[], text[], integer[], boolean[]) IS
    'job_complete for many claims at once; returns the ids whose claim was lost';

-- Claims whose lease ran out (the runner died or froze): queued again, or FAILED when out
-- of attempts. Any runner calls this now and then.
CREATE OR REPLACE FUNCTION job_reap_expired() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    FOR r IN SELECT u.job_id, u.token
             FROM (SELECT * FROM job_lease WHERE lease_expires < now() FOR UPDATE SKIP LOCKED) l,
                  unnest(l.job_ids, l.tokens) AS u(job_id, token)
             ORDER BY u.job_id LOOP
        PERFORM job_complete(r.job_id, r.token, 'FAILED', NULL, 'lease expired: the runner died or stopped renewing',
                             'LEASE_EXPIRED', 0, true);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;
COMMENT ON FUNCTION job_reap_expired() IS 'Requeues or fails jobs whose runner lease expired';

-- Puts a FAILED or CANCELLED job back to work, with its failed or cancelled sub-jobs and
-- the dependents that were cancelled because of it. Returns how many jobs changed.
CREATE OR REPLACE FUNCTION job_retry(p_id bigint) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    s bigint;
    k integer;
BEGIN
    SELECT array_agg(j.id ORDER BY j.id) INTO ids FROM job_closure(p_id) c JOIN job j ON j.id = c.id
    WHERE j.status IN ('FAILED', 'CANCELLED');
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM 1 FROM job j WHERE j.id = ANY (ids) ORDER BY j.id FOR UPDATE;
    UPDATE job j SET attempts = 0, not_before = NULL, ts_ended = NULL, token = NULL,
                     runner_id = NULL, ts_queued = now(), status = 'QUEUED',
                     unfinished_parents = (SELECT count(*) FROM dependency d JOIN job p ON p.id = d.parent_id
                                           WHERE d.child_id = j.id AND (p.status <> 'DONE' OR p.id = ANY (ids))),
                     unfinished_subjobs = (SELECT count(*) FROM job c WHERE c.super_id = j.id
                                           AND (c.status NOT IN ('DONE', 'FAILED', 'CANCELLED') OR c.id = ANY (ids)))
    WHERE j.id = ANY (ids);
    -- A job waiting for sub-jobs again is STANDBY; one whose sub-jobs are all done runs its epilog.
    UPDATE job SET status = 'STANDBY' WHERE id = ANY (ids) AND unfinished_subjobs > 0;
    PERFORM job_enqueue(ids);
    DELETE FROM tag WHERE job_id = ANY (ids) AND name IN ('traceback', 'cancelled');
    -- The super-jobs above wait for these again; those that had ended go back to STANDBY.
    SELECT super_id INTO s FROM job WHERE id = p_id;
    SELECT count(*) INTO k FROM job WHERE id = ANY (ids) AND super_id = s;
    WHILE s IS NOT NULL AND NOT s = ANY (ids) LOOP
        UPDATE job SET unfinished_subjobs = unfinished_subjobs + k,
                       status = CASE WHEN status IN ('FAILED', 'CANCELLED') THEN 'STANDBY' ELSE status END,
                       ts_ended = CASE WHEN status IN ('FAILED', 'CANCELLED') THEN NULL ELSE ts_ended END
        WHERE id = s AND status IN ('FAILED', 'CANCELLED', 'STANDBY');
        EXIT WHEN NOT FOUND;
        DELETE FROM tag WHERE job_id = s AND name IN ('traceback', 'cancelled');
        k := 1;
        SELECT super_id INTO s FROM job WHERE id = s;
    END LOOP;
    PERFORM pg_notify('paudm_jobs', 'retry');
    RETURN cardinality(ids);
END $$;
COMMENT ON FUNCTION job_retry(bigint) IS 'Retries a failed or cancelled job with its failed sub-jobs and cancelled dependents';

CREATE OR REPLACE FUNCTION job_forget_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[] := ARRAY(SELECT id FROM gone);
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN NULL; -- also ends the cascade below
    END IF;
    -- The sub-jobs of deleted jobs go too (job.super_id's ON DELETE CASCADE, 0026); this
    -- statement fires the trigger again for their own sub-jobs.
    DELETE FROM job j WHERE j.super_id = ANY (ids);
    DELETE FROM job_attempt_log a USING gone g WHERE a.job_id = g.id;
    DELETE FROM job_ready r USING gone g WHERE r.job_id = g.id;
    PERFORM job_release(ARRAY(SELECT id FROM gone));
    RETURN NULL;
END $$;
COMMENT ON FUNCTION job_forget_deleted() IS
    'Deletes the sub-jobs, attempts, ready-queue entries and claims of deleted jobs';

CREATE OR REPLACE TRIGGER job_forget_deleted AFTER DELETE ON job REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION job_forget_deleted();

-- job.super_id names a job (0026): what its foreign key checked, once a statement. Each
-- distinct super-job of the inserted rows is locked as the key locked it (FOR KEY SHARE:
-- it cannot be deleted before this transaction ends) and must exist; a prolog's 20,000
-- sub-jobs of one super-job make one lookup instead of 20,000. An update that changes
-- super_id (the engine never does) is checked row by row.
CREATE OR REPLACE FUNCTION job_lock_super(p_super bigint, p_job bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM job p WHERE p.id = p_super FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('job %s: its super-job %s does not exist', p_job, p_super), TABLE = 'job', COLUMN = 'super_id';
    END IF;
END $$;
COMMENT ON FUNCTION job_lock_super(bigint, bigint) IS 'Locks super-job p_super of job p_job as a foreign key would, or raises';

CREATE OR REPLACE FUNCTION job_check_super() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        PERFORM job_lock_super(NEW.super_id, NEW.id);
    ELSE
        PERFORM job_lock_super(a.super_id, min(a.id)) FROM added a WHERE a.super_id IS NOT NULL GROUP BY a.super_id;
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION job_check_super() IS 'Checks that the super-jobs of inserted or moved jobs exist, and locks them';

CREATE OR REPLACE TRIGGER job_check_super AFTER INSERT ON job REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION job_check_super();
-- Row by row, and only for updates that name super_id and change it: a statement trigger
-- on every update would collect the rows of every claim and completion.
CREATE OR REPLACE TRIGGER job_check_super_update AFTER UPDATE OF super_id ON job
    FOR EACH ROW WHEN (NEW.super_id IS NOT NULL AND NEW.super_id IS DISTINCT FROM OLD.super_id)
    EXECUTE FUNCTION job_check_super();

CREATE OR REPLACE VIEW job_attempt AS
    SELECT id, job_id, attempt, token, runner_id, host, pid, phase, ts_started, ts_ended, outcome, error
    FROM job_attempt_log
    UNION ALL
    SELECT NULL::bigint, j.id, j.attempts, j.token, j.runner_id, r.host, r.pid, j.phase, j.ts_started, j.ts_ended,
           'DONE', NULL::text
    FROM job j LEFT JOIN runner r ON r.id = j.runner_id
    WHERE j.status = 'DONE' AND j.attempts > 0 AND NOT EXISTS (
        SELECT 1 FROM job_attempt_log a WHERE a.job_id = j.id AND a.attempt = j.attempts AND a.outcome = 'DONE');
COMMENT ON VIEW job_attempt IS
    'Every claim of every job: the log, plus the final attempt of DONE jobs that the log does not hold (id NULL)';

-- Writing to the view writes to the log, so that the engine functions that record
-- failures and cancellations are unchanged.
CREATE OR REPLACE FUNCTION job_attempt_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_attempt_log (job_id, attempt, token, runner_id, host, pid, phase, ts_started, ts_ended, outcome, error)
    VALUES (NEW.job_id, NEW.attempt, NEW.token, NEW.runner_id, NEW.host, NEW.pid, NEW.phase,
            coalesce(NEW.ts_started, now()), NEW.ts_ended, NEW.outcome, NEW.error)
    RETURNING id INTO NEW.id;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER job_attempt_insert INSTEAD OF INSERT ON job_attempt FOR EACH ROW EXECUTE FUNCTION job_attempt_insert();

-- Takes ended jobs out of their batches' leases.
CREATE OR REPLACE FUNCTION job_release(p_ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM job_lease WHERE job_ids <@ p_ids; -- whole batches (the common case)
    UPDATE job_lease l SET job_ids = k.ids, tokens = k.tokens
    FROM (SELECT l2.id, array_agg(u.job_id ORDER BY u.n) AS ids, array_agg(u.token ORDER BY u.n) AS tokens
          FROM job_lease l2, unnest(l2.job_ids, l2.tokens) WITH ORDINALITY AS u(job_id, token, n)
          WHERE l2.job_ids && p_ids AND u.job_id <> ALL (p_ids) GROUP BY l2.id) k
    WHERE l.id = k.id;
END $$;
COMMENT ON FUNCTION job_release(bigint[]) IS 'Removes ended jobs from the leases of their batches';

CREATE OR REPLACE FUNCTION job_give_back(p_ids bigint[], p_tokens bigint[]) RETURNS integer LANGUAGE plpgsql AS $$
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
CREATE OR REPLACE FUNCTION job_retry_soon(p_ids bigint[]) RETURNS void LANGUAGE sql AS $$
    UPDATE job SET not_before = now() + interval '1 second' WHERE id = ANY (p_ids) AND status = 'QUEUED';
    UPDATE job_ready SET not_before = now() + interval '1 second' WHERE job_id = ANY (p_ids);
$$;
COMMENT ON FUNCTION job_retry_soon(bigint[]) IS 'Retries these failed jobs after a second instead of their back-off';
