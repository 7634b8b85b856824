-- The nightly pipeline's measurements (the paper's section 6.1, step 2, second half):
-- background, detections, PSF, astrometry and the photometric zero points. What each
-- column holds, in the units the pipeline writes, and why some stay empty.

ALTER TABLE ref_star ADD COLUMN epoch real NOT NULL DEFAULT 2016.0;
COMMENT ON COLUMN ref_star.epoch IS
    'Epoch of ra and dec (Julian year); the astrometry moves each star by its proper motion to the date of the exposure';
COMMENT ON COLUMN ref_star.ra IS 'Right ascension (deg, ICRS, at the epoch of the epoch column)';
COMMENT ON COLUMN ref_star.dec IS 'Declination (deg, ICRS, at the epoch of the epoch column)';

COMMENT ON COLUMN image.bkg_mean IS
    'Sky background of the reduced CCD (e-/s per pixel): the median of its background map (SExtractor''s mesh method, '
    'sources masked), divided by the exposure time';
COMMENT ON COLUMN image.bkg_std IS
    'Noise of the sky background (e-/s per pixel): the median of the background rms map, divided by the exposure time';
COMMENT ON COLUMN image.n_extracted IS 'Number of sources detected on the CCD (rows in detection)';
COMMENT ON COLUMN image.psf_fwhm IS
    'PSF FWHM (arcsec): median of the Moffat fits to the isolated, unsaturated, bright stars of the CCD';
COMMENT ON COLUMN image.psf_stars IS 'Number of stars behind psf_fwhm';
COMMENT ON COLUMN image.psf_fit IS 'Median reduced chi-square of those stars'' Moffat fits (about 1 when the model fits)';
COMMENT ON COLUMN image.ra_min IS 'Footprint of the CCD: smallest right ascension (deg), from the fitted WCS when there is one';
COMMENT ON COLUMN image.transparency IS
    'Fraction of the light that reached the telescope: 10^(0.4 (zp_nightly - expected)), the expected zero point that of '
    'the instrument in the CCD''s filter (times its median illumination) less the atmospheric extinction at the airmass';
COMMENT ON COLUMN image.zp_nightly IS
    'Zero point (AB mag giving 1 e-/s on the reduced CCD) from the matched reference stars: their weighted, 3-sigma '
    'clipped mean, aperture photometry within 2 FWHM (local background 6 to 8 FWHM out) corrected to total light by '
    'the PSF stars'' curve of growth';
COMMENT ON COLUMN image.zp_nightly_err IS 'Uncertainty of zp_nightly (mag): the larger of the formal error and scatter / sqrt(n)';
COMMENT ON COLUMN image.zp_nightly_stars IS 'Reference stars behind zp_nightly (after clipping)';

COMMENT ON COLUMN mosaic.astro_status IS
    'Outcome of the astrometric solution: ok, few_stars (too few matched stars: the header WCS kept), no_match (no '
    'offset brings the detections onto the reference stars), no_reference (none in the footprint)';
COMMENT ON COLUMN mosaic.astro_ref_cat IS 'Reference catalogue of the astrometric and photometric calibration (ref_star.catalogue)';
COMMENT ON COLUMN mosaic.astro_nstars IS 'Detections matched to reference stars and used by the astrometric fit';
COMMENT ON COLUMN mosaic.astro_nstars_highsn IS 'Of those, the stars with signal to noise over 100';
COMMENT ON COLUMN mosaic.astro_ref_sigma IS 'Radial rms of the astrometric residuals, all matched stars (arcsec)';
COMMENT ON COLUMN mosaic.astro_href_sigma IS 'Radial rms of the astrometric residuals, high signal-to-noise stars (arcsec)';
COMMENT ON COLUMN mosaic.astro_chi2 IS 'Chi-square of the astrometric fit per degree of freedom';
COMMENT ON COLUMN mosaic.astro_contrast IS
    'Height of the matching peak over what random pairs give (how clearly the offset was found; under 6: no_match)';
COMMENT ON COLUMN mosaic.photo_status IS
    'Outcome of the photometric calibration: ok, or which CCDs had too few stars (few_stars) or no astrometry';
COMMENT ON COLUMN mosaic.psf_model_status IS 'Outcome of the PSF measurement: ok, or how many CCDs had too few stars (few_stars)';
COMMENT ON COLUMN mosaic.mean_psf_fwhm IS 'Mean of the CCDs'' psf_fwhm (arcsec)';
COMMENT ON COLUMN mosaic.extinction IS
    'Light lost in the atmosphere (mag): the mean over the CCDs of the expected zero point above the atmosphere minus '
    'zp_nightly; extinction by the airmass and clouds together';
COMMENT ON COLUMN mosaic.extinction_err IS 'Standard deviation of that over the CCDs (mag)';
COMMENT ON COLUMN mosaic.zp_phot_id IS
    'Not set by the nightly pipeline: its zero points are per CCD (image.zp_nightly) and per band and night (phot_zp)';

COMMENT ON COLUMN detection.band IS 'Filter of the image (NB455 ... NB845, or a broad band)';
COMMENT ON COLUMN detection.background IS 'Local background at the centre (e-/pixel)';
COMMENT ON COLUMN detection.class_star IS
    'Empty: SExtractor''s neural-network classifier is not used; spread_model separates stars from galaxies';
COMMENT ON COLUMN detection.spread_model IS
    'SExtractor''s SPREAD_MODEL: about 0 for a point source, positive for an extended one (over 0.005: a galaxy at '
    'PAUCam''s resolution), from the PSF and a PSF convolved with a small exponential, matched in second moments';
COMMENT ON COLUMN detection.flux_psf IS 'Flux from a fit of the CCD''s Moffat PSF at the detection''s centroid (e-)';
COMMENT ON COLUMN detection.flux_model IS
    'Empty: galaxy model fitting belongs to forced photometry (memba), not to the nightly detection';
COMMENT ON COLUMN detection.flux_err_model IS 'Empty, as flux_model';
COMMENT ON COLUMN detection.flags IS
    'Bits: 1 neighbours or masked pixels in the Kron aperture, 2 deblended, 4 saturated pixels, 8 touches the border, '
    '16 a bad or cosmic-ray pixel within 2 pixels of the centre';
COMMENT ON COLUMN detection.elongation IS 'Ratio of the major to the minor axis of the second-moment ellipse';
COMMENT ON COLUMN detection.ra IS 'Right ascension (deg, ICRS) through the fitted WCS (the header''s when the astrometry failed)';
COMMENT ON COLUMN detection.x IS 'Windowed centroid, column (pixels, FITS: the first pixel''s centre is 1)';
COMMENT ON COLUMN detection.y IS 'Windowed centroid, row (pixels, FITS: the first pixel''s centre is 1)';
COMMENT ON COLUMN detection.zp_offset IS 'Empty: fluxes are in e-; image.zp_nightly turns them into magnitudes';

COMMENT ON COLUMN star_photometry.flux IS
    'Aperture flux of the reference star within 2 FWHM, less the local background, corrected to total light (e-)';
COMMENT ON COLUMN star_photometry.bg IS 'Local background under the star (e-/pixel)';
COMMENT ON COLUMN star_photometry.flags IS 'The detection''s flags; bit 256: clipped from the zero point';
COMMENT ON COLUMN image_zp.calib_method IS 'How the zero point was found: nightly_ref_stars (matched reference stars of the CCD)';

-- One phot_method row per way of measuring, so that the many single_epoch jobs of a night
-- that measure alike share it.
CREATE UNIQUE INDEX phot_method_identity_idx ON phot_method
    (background_method, background_parameter, extraction_code, extraction_method, extraction_parameter) NULLS NOT DISTINCT;
