-- The transfer ledger: every file copied from the observatory buffer into the archive,
-- with its checksum, timing and outcome, and the totals per obs set. The buffer retention
-- and the console's Transfer panel read it.

CREATE TABLE transfer_obs_set (
    obs_set           text PRIMARY KEY,
    buffer_path       text NOT NULL,
    archive_path      text NOT NULL,
    files             integer NOT NULL DEFAULT 0,
    bytes             bigint NOT NULL DEFAULT 0,
    files_verified    integer NOT NULL DEFAULT 0,
    files_quarantined integer NOT NULL DEFAULT 0,
    files_failed      integer NOT NULL DEFAULT 0,
    started           timestamptz NOT NULL DEFAULT now(),
    ended             timestamptz,
    status            text NOT NULL DEFAULT 'RUNNING'
                      CHECK (status IN ('RUNNING', 'DONE', 'INCOMPLETE', 'FAILED')),
    error             text
);
COMMENT ON TABLE transfer_obs_set IS 'Transfer of each obs set from the observatory buffer into the archive (the latest run)';
COMMENT ON COLUMN transfer_obs_set.obs_set IS 'Observation set name (YYYYMMDD_NNN)';
COMMENT ON COLUMN transfer_obs_set.buffer_path IS 'Folder of the obs set in the observatory buffer';
COMMENT ON COLUMN transfer_obs_set.archive_path IS 'Folder of the obs set in the archive (raw/<obs_set>)';
COMMENT ON COLUMN transfer_obs_set.files IS 'Files listed in the obs-set YAML';
COMMENT ON COLUMN transfer_obs_set.bytes IS 'Bytes listed in the obs-set YAML';
COMMENT ON COLUMN transfer_obs_set.files_verified IS 'Files in the archive with a verified size and Adler32';
COMMENT ON COLUMN transfer_obs_set.files_quarantined IS 'Files whose copy did not match the YAML (moved to quarantine)';
COMMENT ON COLUMN transfer_obs_set.files_failed IS 'Files that could not be copied (I/O error, missing in the buffer)';
COMMENT ON COLUMN transfer_obs_set.started IS 'Start of the latest transfer run of this obs set';
COMMENT ON COLUMN transfer_obs_set.ended IS 'End of the latest transfer run of this obs set';
COMMENT ON COLUMN transfer_obs_set.status IS 'RUNNING, DONE (every file verified), INCOMPLETE (some quarantined or failed) or FAILED (the YAML could not be read)';
COMMENT ON COLUMN transfer_obs_set.error IS 'Why the obs set is not DONE';

CREATE TABLE transfer_file (
    obs_set          text NOT NULL REFERENCES transfer_obs_set (obs_set),
    filename         text NOT NULL,
    kind             text,
    bytes            bigint NOT NULL,
    adler32_expected text NOT NULL,
    adler32          text,
    started          timestamptz,
    ended            timestamptz,
    rate_mb_s        real,
    attempt          integer NOT NULL DEFAULT 0,
    status           text NOT NULL DEFAULT 'PENDING'
                     CHECK (status IN ('PENDING', 'VERIFIED', 'QUARANTINED', 'FAILED')),
    error            text,
    PRIMARY KEY (obs_set, filename)
);
COMMENT ON TABLE transfer_file IS 'Each file of an obs set copied from the observatory buffer into the archive';
COMMENT ON COLUMN transfer_file.obs_set IS 'Observation set the file belongs to';
COMMENT ON COLUMN transfer_file.filename IS 'File name inside the obs set folder';
COMMENT ON COLUMN transfer_file.kind IS 'Kind from the obs-set YAML (bias, flat, science, focus, test)';
COMMENT ON COLUMN transfer_file.bytes IS 'Size from the obs-set YAML (bytes)';
COMMENT ON COLUMN transfer_file.adler32_expected IS 'Adler32 from the obs-set YAML (8 lower-case hex digits)';
COMMENT ON COLUMN transfer_file.adler32 IS 'Adler32 of the bytes copied (8 lower-case hex digits)';
COMMENT ON COLUMN transfer_file.started IS 'Start of the latest copy attempt';
COMMENT ON COLUMN transfer_file.ended IS 'End of the latest copy attempt';
COMMENT ON COLUMN transfer_file.rate_mb_s IS 'Copy rate of the latest attempt (MB/s, copy, checksum and fsync included)';
COMMENT ON COLUMN transfer_file.attempt IS 'Copy attempts so far (a file found verified in the archive does not count)';
COMMENT ON COLUMN transfer_file.status IS 'PENDING, VERIFIED (in the archive, checksum matched), QUARANTINED or FAILED';
COMMENT ON COLUMN transfer_file.error IS 'What went wrong in the latest attempt';
