-- job.super_id without a foreign key: its check and its cascade are now statement
-- triggers (job_check_super, job_forget_deleted in schema/functions/job_engine.sql).
-- The key checked each row on its own, with a lookup and a row lock of the super-job:
-- the 20,000 sub-jobs of one prolog made 20,000 lookups and locks of the same row, a
-- fifth of the prolog (COPY into job 0.385 s -> 0.305 s without it). The trigger checks
-- and locks each distinct super-job once per statement, with the same lock the key took
-- (FOR KEY SHARE: no concurrent delete of the super-job until commit). The dependency
-- table keeps its keys. Until the engine's functions are applied again, a moment later
-- in the same migration run, super_id is unchecked.
ALTER TABLE job DROP CONSTRAINT job_super_id_fkey;
COMMENT ON COLUMN job.super_id IS
    'The super-job this job is a sub-job of (hierarchy); NULL for a top-level job. Refers to job.id (checked by the trigger job_check_super; deleting a job deletes its sub-jobs)';
