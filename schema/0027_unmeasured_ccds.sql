-- The mosaic's statuses also say how many of its CCDs could not be measured at all, and
-- why (a CCD whose sky is saturated; one too bright even to find its sources): before,
-- such a CCD failed the whole mosaic's single_epoch job.
COMMENT ON COLUMN mosaic.photo_status IS
    'Outcome of the photometric calibration: ok, or which CCDs had too few stars (few_stars) or no astrometry; then how many CCDs could not be measured and why (saturated, crowded)';
COMMENT ON COLUMN mosaic.psf_model_status IS
    'Outcome of the PSF measurement: ok, or how many CCDs had too few stars (few_stars), or not_measured when no CCD could be; then how many CCDs could not be measured and why (saturated, crowded)';
COMMENT ON COLUMN image.n_extracted IS
    'Number of sources detected on the CCD (rows in detection); NULL when the CCD could not be measured (the single_epoch job''s output says why)';
