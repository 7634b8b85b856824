-- Registration and buffer retention. An obs set is registered when every file of its YAML
-- has its mosaic and image rows and nothing else does; only then, and after its nightly
-- reduction, may the buffer let it go. Cleaning the buffer is recorded in the ledger.

ALTER TABLE obs_set ADD COLUMN registered timestamptz;
ALTER TABLE obs_set ADD COLUMN archive_path text;
COMMENT ON COLUMN obs_set.registered IS 'When the register job found the mosaics in PAUdb identical to the obs-set YAML (NULL: not yet)';
COMMENT ON COLUMN obs_set.archive_path IS 'Folder of the raw obs set relative to the archive root (raw/<obs_set>)';

ALTER TABLE transfer_obs_set ADD COLUMN buffer_cleaned timestamptz;
COMMENT ON COLUMN transfer_obs_set.buffer_cleaned IS 'When paudm buffer clean removed the obs set from the observatory buffer';
