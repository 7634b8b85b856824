-- What a production job queue needs beyond BT's columns: priorities, attempts and
-- retries, leases renewed by heartbeat, runner identity, and one row per attempt.

CREATE TABLE runner (
    id           bigserial PRIMARY KEY,
    host         text NOT NULL,
    pid          integer NOT NULL,
    threads      integer NOT NULL DEFAULT 1,
    tasks        text,
    batch_job_id text,
    started      timestamptz NOT NULL DEFAULT now(),
    heartbeat    timestamptz NOT NULL DEFAULT now(),
    stopped      timestamptz,
    jobs_done    bigint NOT NULL DEFAULT 0
);
CREATE INDEX runner_live_idx ON runner (heartbeat) WHERE stopped IS NULL;
COMMENT ON TABLE runner IS 'Pilot runner processes (or console-hosted runner pools) that claim and run jobs';
COMMENT ON COLUMN runner.id IS 'Runner identifier';
COMMENT ON COLUMN runner.host IS 'Host name the runner runs on';
COMMENT ON COLUMN runner.pid IS 'Process identifier on that host';
COMMENT ON COLUMN runner.threads IS 'Number of jobs it runs at once';
COMMENT ON COLUMN runner.tasks IS 'Pattern of task names it accepts (NULL: all)';
COMMENT ON COLUMN runner.batch_job_id IS 'Batch system job identifier (e.g. Slurm array job and task)';
COMMENT ON COLUMN runner.started IS 'When the runner started';
COMMENT ON COLUMN runner.heartbeat IS 'Last sign of life';
COMMENT ON COLUMN runner.stopped IS 'When the runner stopped cleanly (NULL: running, or died)';
COMMENT ON COLUMN runner.jobs_done IS 'Jobs it has finished';

ALTER TABLE job
    ADD COLUMN priority           integer NOT NULL DEFAULT 0,
    ADD COLUMN attempts           integer NOT NULL DEFAULT 0,
    ADD COLUMN max_attempts       integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    ADD COLUMN retry_delay_s      real NOT NULL DEFAULT 30,
    ADD COLUMN not_before         timestamptz,
    ADD COLUMN timeout_s          real,
    ADD COLUMN memory_limit_mb    integer,
    ADD COLUMN unfinished_parents integer NOT NULL DEFAULT 0 CHECK (unfinished_parents >= 0),
    ADD COLUMN unfinished_subjobs integer NOT NULL DEFAULT 0 CHECK (unfinished_subjobs >= 0),
    ADD COLUMN phase              text NOT NULL DEFAULT 'prolog' CHECK (phase IN ('prolog', 'run', 'epilog')),
    ADD COLUMN runner_id          bigint REFERENCES runner (id) ON DELETE SET NULL;

-- The ready queue and the active claims are small tables of their own: a job row then has
-- no index on anything that changes while it runs, so its updates stay on their page (HOT)
-- and cost no index writes, however many million jobs the table holds.
CREATE TABLE job_ready (
    job_id     bigint PRIMARY KEY REFERENCES job (id) ON DELETE CASCADE,
    priority   integer NOT NULL,
    name       text NOT NULL,
    not_before timestamptz
);
CREATE INDEX job_ready_order_idx ON job_ready (priority DESC, job_id);
COMMENT ON TABLE job_ready IS 'The jobs a runner may claim: QUEUED with every parent DONE (kept by the engine functions)';
COMMENT ON COLUMN job_ready.job_id IS 'The job';
COMMENT ON COLUMN job_ready.priority IS 'The job''s priority: higher is claimed first';
COMMENT ON COLUMN job_ready.name IS 'The job''s task name, for runners that take only some tasks';
COMMENT ON COLUMN job_ready.not_before IS 'Not claimed before this time (retry back-off)';

CREATE TABLE job_lease (
    job_id        bigint PRIMARY KEY REFERENCES job (id) ON DELETE CASCADE,
    token         bigint NOT NULL,
    runner_id     bigint REFERENCES runner (id) ON DELETE SET NULL,
    lease_expires timestamptz NOT NULL
);
COMMENT ON TABLE job_lease IS 'Claims in progress: a claim lapses at lease_expires unless its runner renews it';
COMMENT ON COLUMN job_lease.job_id IS 'The claimed job';
COMMENT ON COLUMN job_lease.token IS 'Fencing token of the claim (also on the job row)';
COMMENT ON COLUMN job_lease.runner_id IS 'Runner holding the claim';
COMMENT ON COLUMN job_lease.lease_expires IS 'The claim lapses at this time unless renewed by heartbeat';
COMMENT ON COLUMN job.priority IS 'Higher runs first among ready jobs';
COMMENT ON COLUMN job.attempts IS 'How many times the job has been claimed';
COMMENT ON COLUMN job.max_attempts IS 'Attempts allowed before the job is FAILED';
COMMENT ON COLUMN job.retry_delay_s IS 'Back-off before a retry (s), doubled at every attempt';
COMMENT ON COLUMN job.not_before IS 'A queued job is not claimed before this time (retry back-off)';
COMMENT ON COLUMN job.timeout_s IS 'Wall-clock limit of one attempt (s; NULL: the task type default)';
COMMENT ON COLUMN job.memory_limit_mb IS 'Memory limit of one attempt (MiB; NULL: the task type default)';
COMMENT ON COLUMN job.unfinished_parents IS 'Parents (dependency) not yet DONE; the job is ready when 0';
COMMENT ON COLUMN job.unfinished_subjobs IS 'Sub-jobs not yet finished; a STANDBY job is queued again at 0';
COMMENT ON COLUMN job.phase IS 'Next part to run: prolog, run or epilog';
COMMENT ON COLUMN job.runner_id IS 'Runner of the current or last claim';

CREATE TABLE job_attempt (
    id         bigserial PRIMARY KEY,
    job_id     bigint NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    attempt    integer NOT NULL,
    token      bigint NOT NULL,
    runner_id  bigint REFERENCES runner (id) ON DELETE SET NULL,
    host       text,
    pid        integer,
    phase      text NOT NULL,
    ts_started timestamptz NOT NULL DEFAULT now(),
    ts_ended   timestamptz,
    outcome    text CHECK (outcome IN ('DONE', 'STANDBY', 'FAILED', 'CRASHED', 'TIMEOUT', 'OUT_OF_MEMORY',
                                       'LEASE_EXPIRED', 'CANCELLED')),
    error      text
);
CREATE INDEX job_attempt_job_idx ON job_attempt (job_id);
COMMENT ON TABLE job_attempt IS 'One row per claim of a job, written when the claim ends: when, where, and how it ended (the claim in progress is on the job row)';
COMMENT ON COLUMN job_attempt.id IS 'Attempt identifier';
COMMENT ON COLUMN job_attempt.job_id IS 'The job';
COMMENT ON COLUMN job_attempt.attempt IS 'Attempt number (1-based; starts again after a retry by hand or a new phase)';
COMMENT ON COLUMN job_attempt.token IS 'Fencing token of this claim (unique: drawn from job_token_seq)';
COMMENT ON COLUMN job_attempt.runner_id IS 'Runner that claimed it';
COMMENT ON COLUMN job_attempt.host IS 'Host it ran on';
COMMENT ON COLUMN job_attempt.pid IS 'Process that ran it';
COMMENT ON COLUMN job_attempt.phase IS 'Part that ran: prolog, run or epilog';
COMMENT ON COLUMN job_attempt.ts_started IS 'When the claim was made';
COMMENT ON COLUMN job_attempt.ts_ended IS 'When the attempt ended';
COMMENT ON COLUMN job_attempt.outcome IS 'DONE, STANDBY, FAILED, CRASHED, TIMEOUT, OUT_OF_MEMORY, LEASE_EXPIRED or CANCELLED';
COMMENT ON COLUMN job_attempt.error IS 'Error message of a failed attempt';

CREATE SEQUENCE job_token_seq;
COMMENT ON SEQUENCE job_token_seq IS 'Source of fencing tokens for job claims';
