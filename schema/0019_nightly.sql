-- The nightly pipeline's products in PAUdb (the paper's section 6.1, step 2).
--
-- Raw and reduced mosaics share the mosaic table, as in Appendix B. They are told apart by
-- production_id (NULL for a raw mosaic, registered from the archive; the nightly
-- production that made it otherwise) and by kind (bias, flat, science, focus, test for raw
-- exposures; master_bias, master_flat, red_science for products). A reduced science
-- mosaic points at the raw mosaic it came from (raw_mosaic_id), and keeps one image row
-- per CCD, each in a file of its own (image.filename).

ALTER TABLE mosaic ADD COLUMN raw_mosaic_id bigint REFERENCES mosaic (id) ON DELETE CASCADE;
CREATE INDEX mosaic_raw_idx ON mosaic (raw_mosaic_id) WHERE raw_mosaic_id IS NOT NULL;
COMMENT ON COLUMN mosaic.raw_mosaic_id IS
    'For a reduced science mosaic (kind red_science): the raw mosaic it was reduced from; NULL otherwise';
COMMENT ON COLUMN mosaic.kind IS
    'Raw exposures (production_id NULL): bias, flat, science, focus or test. Products of a nightly production: '
    'master_bias, master_flat (filtertray says which tray) or red_science (raw_mosaic_id says from which exposure)';
COMMENT ON COLUMN mosaic.production_id IS
    'Production that made it: NULL for a raw mosaic (registered from the archive), the nightly production for its products';
COMMENT ON COLUMN mosaic.filename IS
    'File name: the raw file; for a master, its MEF file (one extension per CCD); for a reduced science mosaic, the raw '
    'file''s name (its CCDs are in files of their own, see image.filename)';
COMMENT ON COLUMN mosaic.archivepath IS
    'Folder of the file, relative to the archive root: raw/<obs_set> or red/<release>/<obs_set>';
COMMENT ON COLUMN mosaic.merged_mosaics IS 'Number of raw mosaics combined into this master frame';
COMMENT ON COLUMN mosaic.detrend_status IS
    'Outcome of detrending: ok, or what was missing or wrong (e.g. ''no master flat for FT_NB455_NB525''); for a master, '
    'ok or the master of an earlier night it stands in for';

ALTER TABLE image ADD COLUMN filename text;
COMMENT ON COLUMN image.filename IS
    'File holding this image when it is not the mosaic''s own file: a reduced CCD''s file (image, WEIGHT and MASK '
    'extensions) beside the mosaic''s archivepath; NULL for raw amplifiers and master extensions';
COMMENT ON COLUMN image.image_num IS
    'FITS extension of the image in its file: the raw amplifier''s extension (1-based), the CCD''s extension of a master, '
    'or the CCD number for a reduced science CCD (its own file)';
COMMENT ON COLUMN image.gain IS 'Gain (e-/ADU) of a raw amplifier; 1 for reduced images, which are in electrons';
COMMENT ON COLUMN image.rdnoise IS
    'Read noise (e-): of the amplifier (raw), or the mean of the CCD''s amplifiers as measured by the master bias (reduced)';
COMMENT ON COLUMN image.max_readnoise IS 'Largest read noise (e-) of the CCD''s amplifiers, as measured by the master bias';
COMMENT ON COLUMN image.saturate_ratio IS 'Fraction of the CCD''s pixels saturated (or in a bleed trail)';
COMMENT ON COLUMN image.cosmic_ratio IS 'Fraction of the CCD''s pixels flagged as cosmic rays';

-- Quality control on three levels. min_value/max_value stay the range of a pass (the
-- paper's reference range); fail_min/fail_max, when given, the wider range of a warning.
ALTER TABLE quality_control
    ADD COLUMN fail_min double precision,
    ADD COLUMN fail_max double precision,
    ADD COLUMN level text CHECK (level IN ('pass', 'warn', 'fail'));
UPDATE quality_control SET level = CASE WHEN qc_pass THEN 'pass' ELSE 'fail' END;
COMMENT ON COLUMN quality_control.level IS
    'pass (within [min_value, max_value]), warn (outside it but within [fail_min, fail_max]) or fail';
COMMENT ON COLUMN quality_control.fail_min IS 'Below this the check fails; between it and min_value it warns (NULL: no warning band)';
COMMENT ON COLUMN quality_control.fail_max IS 'Above this the check fails; between max_value and it it warns (NULL: no warning band)';
COMMENT ON COLUMN quality_control.qc_pass IS 'Whether the check passed cleanly (level pass); a warning is not a pass';

-- Existing flags under the rule with warnings (job_qc_flag of three counts, written out).
-- Every level was set just above from qc_pass, so "not passed" and "failed" coincide here.
UPDATE job j SET qc_flag = CASE WHEN s.failed = 0 THEN 'green' WHEN 2 * s.failed > s.checks THEN 'red' ELSE 'yellow' END
FROM (SELECT q.job_id, count(*) AS checks, count(*) FILTER (WHERE q.level = 'fail') AS failed
      FROM quality_control q GROUP BY q.job_id) s
WHERE j.id = s.job_id AND j.qc_flag IS NOT NULL;

-- A production is one pipeline run under a release name; running the nightly pipeline of
-- another night under the same release adds to it.
COMMENT ON TABLE production IS
    'Tracks the different processing production runs for all pipelines: one row per pipeline and release';
