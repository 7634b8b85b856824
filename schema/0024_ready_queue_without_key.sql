-- The ready queue without a foreign key to job: each row written checked its job with a
-- lookup and a row lock (FOR KEY SHARE, which also writes the job row's tuple header).
-- Queueing the 20,000 sub-jobs of one prolog took 151 ms of COPY into job_ready, most of
-- it those checks. As for the claims and attempts (0008), the engine's functions are the
-- only writers and always write existing ids; ON DELETE CASCADE is kept by the statement
-- trigger job_forget_deleted (schema/functions/job_engine.sql). TRUNCATE job no longer
-- empties job_ready: truncate both.
ALTER TABLE job_ready DROP CONSTRAINT job_ready_job_id_fkey;
