-- PAUdb: the tables of Appendix B (tables .1 to .4) of the PAU Survey data management
-- paper, every listed column under its paper name. Applied in one transaction.

-- ===================================================================== BT (table .4)
CREATE TABLE job (
    id          bigserial PRIMARY KEY,
    super_id    bigint REFERENCES job (id) ON DELETE CASCADE,
    name        text NOT NULL,
    description text,
    status      text NOT NULL DEFAULT 'STASHED'
                CHECK (status IN ('STASHED', 'QUEUED', 'RUNNING', 'STANDBY', 'DONE', 'FAILED', 'CANCELLED')),
    config      jsonb NOT NULL DEFAULT '{}'::jsonb,
    input       jsonb NOT NULL DEFAULT '{}'::jsonb,
    output      jsonb,
    token       bigint,
    ts_created  timestamptz NOT NULL DEFAULT now(),
    ts_queued   timestamptz,
    ts_started  timestamptz,
    ts_ended    timestamptz
) WITH (fillfactor = 70); -- room on each page for a job's updates to stay there (HOT)
-- Every index here is paid on each state change of each job (two per run), so the job
-- table keeps few: sub-jobs by super-job, top-level jobs newest first (the console's
-- main listing), and creation time as BRIN (rows arrive in time order, and BRIN costs
-- next to nothing to maintain). Ready jobs and claims have tables of their own (0002).
CREATE INDEX job_super_idx ON job (super_id) WHERE super_id IS NOT NULL;
CREATE INDEX job_toplevel_idx ON job (id DESC) WHERE super_id IS NULL;
CREATE INDEX job_created_brin ON job USING brin (ts_created);
COMMENT ON TABLE job IS 'Tracks the list of BT (brownthrower) computing jobs: one row per job or sub-job';
COMMENT ON COLUMN job.id IS 'Job identifier';
COMMENT ON COLUMN job.super_id IS 'The super-job this job is a sub-job of (hierarchy); NULL for a top-level job';
COMMENT ON COLUMN job.name IS 'Task type name (register, nightly, single_epoch, ...)';
COMMENT ON COLUMN job.description IS 'Free text describing this job';
COMMENT ON COLUMN job.status IS 'STASHED, QUEUED, RUNNING, STANDBY (waiting for sub-jobs), DONE, FAILED or CANCELLED';
COMMENT ON COLUMN job.config IS 'Task configuration (JSON; users may give it as YAML)';
COMMENT ON COLUMN job.input IS 'Task input (JSON)';
COMMENT ON COLUMN job.output IS 'Task output (JSON), set when the job ends';
COMMENT ON COLUMN job.token IS 'Fencing token of the current claim: a runner may commit only while it still holds it';
COMMENT ON COLUMN job.ts_created IS 'When the job was created';
COMMENT ON COLUMN job.ts_queued IS 'When the job was last queued';
COMMENT ON COLUMN job.ts_started IS 'When the current or last run started';
COMMENT ON COLUMN job.ts_ended IS 'When the job reached DONE, FAILED or CANCELLED';

CREATE TABLE dependency (
    super_id  bigint REFERENCES job (id) ON DELETE CASCADE,
    parent_id bigint NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    child_id  bigint NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, child_id),
    CHECK (parent_id <> child_id)
);
CREATE INDEX dependency_child_idx ON dependency (child_id);
CREATE INDEX dependency_super_idx ON dependency (super_id);
COMMENT ON TABLE dependency IS 'Ordering between BT jobs: the child runs only after the parent is DONE';
COMMENT ON COLUMN dependency.super_id IS 'The super-job both jobs belong to (NULL for top-level jobs)';
COMMENT ON COLUMN dependency.parent_id IS 'The job that must finish first';
COMMENT ON COLUMN dependency.child_id IS 'The job that waits for the parent';

CREATE TABLE tag (
    job_id bigint NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    name   text NOT NULL,
    value  text NOT NULL,
    PRIMARY KEY (job_id, name)
);
COMMENT ON TABLE tag IS 'Named text attached to a job: log, stdout, stderr, traceback, ...';
COMMENT ON COLUMN tag.job_id IS 'The job';
COMMENT ON COLUMN tag.name IS 'Tag name (log, stdout, stderr, traceback, ...)';
COMMENT ON COLUMN tag.value IS 'Tag text';

CREATE TABLE quality_control (
    id         bigserial PRIMARY KEY,
    job_id     bigint NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    check_name text NOT NULL,
    min_value  double precision,
    max_value  double precision,
    value      double precision,
    units      text,
    qc_pass    boolean,
    plot_file  text,
    ref        text,
    time       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quality_control_job_idx ON quality_control (job_id);
CREATE INDEX quality_control_check_idx ON quality_control (check_name, time);
COMMENT ON TABLE quality_control IS 'Quality control entries measured during the data reduction process';
COMMENT ON COLUMN quality_control.id IS 'QC entry identifier';
COMMENT ON COLUMN quality_control.job_id IS 'The job that measured it';
COMMENT ON COLUMN quality_control.check_name IS 'Name of the check (e.g. seeing, bias_level)';
COMMENT ON COLUMN quality_control.min_value IS 'Lowest acceptable value (NULL: no lower bound)';
COMMENT ON COLUMN quality_control.max_value IS 'Highest acceptable value (NULL: no upper bound)';
COMMENT ON COLUMN quality_control.value IS 'Measured value';
COMMENT ON COLUMN quality_control.units IS 'Units of value, min_value and max_value';
COMMENT ON COLUMN quality_control.qc_pass IS 'Whether value lies within [min_value, max_value]';
COMMENT ON COLUMN quality_control.plot_file IS 'Archive path of a plot illustrating the check';
COMMENT ON COLUMN quality_control.ref IS 'What was checked (file, CCD, amplifier, ...)';
COMMENT ON COLUMN quality_control.time IS 'When the check was made';

-- ===================================================================== PAUdb (table .1)
CREATE TABLE project (
    id            serial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    description   text,
    contact_name  text,
    contact_email text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE project IS 'Description of projects observing with PAUCam';
COMMENT ON COLUMN project.id IS 'Project identifier';
COMMENT ON COLUMN project.name IS 'Project name as written in the observation set YAML';
COMMENT ON COLUMN project.description IS 'What the project observes';
COMMENT ON COLUMN project.contact_name IS 'Contact person';
COMMENT ON COLUMN project.contact_email IS 'Contact e-mail address';
COMMENT ON COLUMN project.created_at IS 'When the project was registered';

CREATE TABLE production (
    id                  serial PRIMARY KEY,
    input_production_id integer REFERENCES production (id),
    job_id              bigint REFERENCES job (id) ON DELETE SET NULL,
    pipeline            text NOT NULL,
    release             text NOT NULL,
    software_version    text NOT NULL,
    comments            text,
    created             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (pipeline, release)
);
COMMENT ON TABLE production IS 'Tracks the different processing production runs for all pipelines';
COMMENT ON COLUMN production.id IS 'Production identifier';
COMMENT ON COLUMN production.input_production_id IS 'The production whose products this one took as input';
COMMENT ON COLUMN production.job_id IS 'The top-level job that ran this production';
COMMENT ON COLUMN production.pipeline IS 'Pipeline name (register, nightly, memba, ...)';
COMMENT ON COLUMN production.release IS 'Release name; reduced files go to red/<release>/';
COMMENT ON COLUMN production.software_version IS 'Version of the software that produced it';
COMMENT ON COLUMN production.comments IS 'Free text';
COMMENT ON COLUMN production.created IS 'When the production was created';

CREATE TABLE obs_set (
    id         serial PRIMARY KEY,
    obs_set    text NOT NULL UNIQUE,
    instrument text NOT NULL DEFAULT 'PAUCam',
    night      date NOT NULL,
    operator   text,
    notes      text,
    log        text,
    rjd_start  double precision,
    rjd_stop   double precision,
    project_id integer REFERENCES project (id)
);
CREATE INDEX obs_set_night_idx ON obs_set (night);
COMMENT ON TABLE obs_set IS 'List of Observation Sets registered in the database';
COMMENT ON COLUMN obs_set.id IS 'Observation set identifier';
COMMENT ON COLUMN obs_set.obs_set IS 'Observation set name (night and a counter that restarts each night), as its archive folder';
COMMENT ON COLUMN obs_set.instrument IS 'Instrument (PAUCam)';
COMMENT ON COLUMN obs_set.night IS 'Date of the night (at its start)';
COMMENT ON COLUMN obs_set.operator IS 'Who observed';
COMMENT ON COLUMN obs_set.notes IS 'Notes from the observation set YAML';
COMMENT ON COLUMN obs_set.log IS 'Night log';
COMMENT ON COLUMN obs_set.rjd_start IS 'Reduced Julian date (JD - 2400000) of the first exposure';
COMMENT ON COLUMN obs_set.rjd_stop IS 'Reduced Julian date (JD - 2400000) of the last exposure';
COMMENT ON COLUMN obs_set.project_id IS 'Project the observation set belongs to (from its YAML)';

CREATE TABLE phot_zp (
    id            serial PRIMARY KEY,
    production_id integer NOT NULL REFERENCES production (id) ON DELETE CASCADE,
    band          text NOT NULL,
    date          date NOT NULL,
    zp            double precision NOT NULL,
    UNIQUE (production_id, band, date)
);
COMMENT ON TABLE phot_zp IS 'Photometric zero-points';
COMMENT ON COLUMN phot_zp.id IS 'Zero-point identifier';
COMMENT ON COLUMN phot_zp.production_id IS 'Production that computed it';
COMMENT ON COLUMN phot_zp.band IS 'Band (NB455 ... NB845, u g r i z Y)';
COMMENT ON COLUMN phot_zp.date IS 'Night it applies to';
COMMENT ON COLUMN phot_zp.zp IS 'Zero point (AB magnitude of 1 e-/s)';

CREATE TABLE mosaic (
    id                  bigserial PRIMARY KEY,
    obs_set_id          integer NOT NULL REFERENCES obs_set (id) ON DELETE CASCADE,
    production_id       integer REFERENCES production (id) ON DELETE CASCADE,
    zp_phot_id          integer REFERENCES phot_zp (id) ON DELETE SET NULL,
    filename            text NOT NULL,
    archivepath         text NOT NULL,
    kind                text NOT NULL,
    date_obs            date,
    time_obs            time,
    rjd_obs             double precision,
    ra                  double precision,
    dec                 double precision,
    equinox             real,
    airmass             real,
    exp_time            real,
    exp_num             integer,
    filtertray          text,
    filtertray_tmp      text,
    obs_title           text,
    instrument          text,
    telfocus            real,
    amb_temp            real,
    humidity            real,
    pressure            real,
    wind_spd            real,
    wind_dir            real,
    guide_enabled       boolean,
    guide_fwhm          real,
    guide_var           real,
    nextend             integer,
    date_creat          date,
    time_creat          time,
    comment             text,
    merged_mosaics      integer,
    detrend_status      text,
    astro_status        text,
    astro_chi2          double precision,
    astro_contrast      double precision,
    astro_href_sigma    double precision,
    astro_nstars        integer,
    astro_nstars_highsn integer,
    astro_ref_cat       text,
    astro_ref_sigma     double precision,
    photo_status        text,
    psf_model_status    text,
    mean_psf_fwhm       real,
    extinction          real,
    extinction_err      real,
    UNIQUE NULLS NOT DISTINCT (production_id, archivepath, filename)
);
CREATE INDEX mosaic_obs_set_idx ON mosaic (obs_set_id);
CREATE INDEX mosaic_production_idx ON mosaic (production_id);
CREATE INDEX mosaic_date_idx ON mosaic (date_obs, time_obs);
CREATE INDEX mosaic_kind_idx ON mosaic (kind, filtertray);
COMMENT ON TABLE mosaic IS 'List of mosaic exposure images (raw and reduced)';
COMMENT ON COLUMN mosaic.id IS 'Mosaic identifier';
COMMENT ON COLUMN mosaic.obs_set_id IS 'Observation set it belongs to';
COMMENT ON COLUMN mosaic.production_id IS 'Production that made it (register for raw mosaics)';
COMMENT ON COLUMN mosaic.zp_phot_id IS 'Photometric zero point applied to it';
COMMENT ON COLUMN mosaic.filename IS 'File name';
COMMENT ON COLUMN mosaic.archivepath IS 'Folder of the file, relative to the archive root';
COMMENT ON COLUMN mosaic.kind IS 'Exposure kind: bias, flat, science, focus, test; or a product: master_bias, master_flat, red_science';
COMMENT ON COLUMN mosaic.date_obs IS 'Date of the exposure start (UTC), header DATE-OBS';
COMMENT ON COLUMN mosaic.time_obs IS 'Time of the exposure start (UTC), header TIME-OBS';
COMMENT ON COLUMN mosaic.rjd_obs IS 'Reduced Julian date (JD - 2400000) of the exposure start';
COMMENT ON COLUMN mosaic.ra IS 'Telescope pointing right ascension (deg)';
COMMENT ON COLUMN mosaic.dec IS 'Telescope pointing declination (deg)';
COMMENT ON COLUMN mosaic.equinox IS 'Equinox of ra and dec (years)';
COMMENT ON COLUMN mosaic.airmass IS 'Airmass at the exposure start';
COMMENT ON COLUMN mosaic.exp_time IS 'Exposure time (s)';
COMMENT ON COLUMN mosaic.exp_num IS 'Exposure number of the camera';
COMMENT ON COLUMN mosaic.filtertray IS 'Filter tray in the camera';
COMMENT ON COLUMN mosaic.filtertray_tmp IS 'Filter tray as first written by the camera, before any correction';
COMMENT ON COLUMN mosaic.obs_title IS 'Title of the observation (header OBJECT)';
COMMENT ON COLUMN mosaic.instrument IS 'Instrument (header INSTRUME)';
COMMENT ON COLUMN mosaic.telfocus IS 'Telescope focus position (mm)';
COMMENT ON COLUMN mosaic.amb_temp IS 'Ambient temperature (deg C)';
COMMENT ON COLUMN mosaic.humidity IS 'Relative humidity (percent)';
COMMENT ON COLUMN mosaic.pressure IS 'Atmospheric pressure (hPa)';
COMMENT ON COLUMN mosaic.wind_spd IS 'Wind speed (m/s)';
COMMENT ON COLUMN mosaic.wind_dir IS 'Wind direction (deg, from north through east)';
COMMENT ON COLUMN mosaic.guide_enabled IS 'Whether the autoguider was on';
COMMENT ON COLUMN mosaic.guide_fwhm IS 'FWHM measured by the guider (arcsec)';
COMMENT ON COLUMN mosaic.guide_var IS 'Variance of the guiding corrections (arcsec^2)';
COMMENT ON COLUMN mosaic.nextend IS 'Number of FITS extensions';
COMMENT ON COLUMN mosaic.date_creat IS 'Date the file was written';
COMMENT ON COLUMN mosaic.time_creat IS 'Time the file was written';
COMMENT ON COLUMN mosaic.comment IS 'Free text';
COMMENT ON COLUMN mosaic.merged_mosaics IS 'Number of mosaics combined into this one (master frames)';
COMMENT ON COLUMN mosaic.detrend_status IS 'Outcome of detrending (ok, fail, ...)';
COMMENT ON COLUMN mosaic.astro_status IS 'Outcome of the astrometric solution';
COMMENT ON COLUMN mosaic.astro_chi2 IS 'Chi-square of the astrometric fit';
COMMENT ON COLUMN mosaic.astro_contrast IS 'Contrast of the astrometric cross-match peak';
COMMENT ON COLUMN mosaic.astro_href_sigma IS 'Astrometric residual RMS of the high signal-to-noise reference stars (arcsec)';
COMMENT ON COLUMN mosaic.astro_nstars IS 'Number of stars used in the astrometric fit';
COMMENT ON COLUMN mosaic.astro_nstars_highsn IS 'Number of high signal-to-noise stars used in the astrometric fit';
COMMENT ON COLUMN mosaic.astro_ref_cat IS 'Reference catalogue of the astrometric fit';
COMMENT ON COLUMN mosaic.astro_ref_sigma IS 'Astrometric residual RMS against the reference catalogue (arcsec)';
COMMENT ON COLUMN mosaic.photo_status IS 'Outcome of the photometric calibration';
COMMENT ON COLUMN mosaic.psf_model_status IS 'Outcome of the PSF modelling';
COMMENT ON COLUMN mosaic.mean_psf_fwhm IS 'Mean PSF FWHM over the mosaic (arcsec)';
COMMENT ON COLUMN mosaic.extinction IS 'Atmospheric extinction measured for the exposure (mag)';
COMMENT ON COLUMN mosaic.extinction_err IS 'Uncertainty of extinction (mag)';

CREATE TABLE image (
    id               bigserial PRIMARY KEY,
    mosaic_id        bigint NOT NULL REFERENCES mosaic (id) ON DELETE CASCADE,
    image_num        integer NOT NULL,
    ccd_num          smallint NOT NULL,
    amp_num          smallint,
    filter           text,
    waveband         text,
    wavelength       real,
    gain             real,
    rdnoise          real,
    max_readnoise    real,
    naxis1           integer,
    naxis2           integer,
    ra_min           double precision,
    ra_max           double precision,
    dec_min          double precision,
    dec_max          double precision,
    bkg_mean         real,
    bkg_std          real,
    cosmic_ratio     real,
    saturate_ratio   real,
    n_extracted      integer,
    psf_fit          real,
    psf_fwhm         real,
    psf_stars        integer,
    transparency     real,
    zp_nightly       real,
    zp_nightly_err   real,
    zp_nightly_stars integer,
    UNIQUE (mosaic_id, image_num)
);
CREATE INDEX image_filter_idx ON image (filter);
CREATE INDEX image_footprint_idx ON image (dec_min, dec_max, ra_min, ra_max);
COMMENT ON TABLE image IS 'List of images associated with the mosaics (CCD and single amplifier images)';
COMMENT ON COLUMN image.id IS 'Image identifier';
COMMENT ON COLUMN image.mosaic_id IS 'Mosaic the image belongs to';
COMMENT ON COLUMN image.image_num IS 'FITS extension number in the mosaic file (1-based)';
COMMENT ON COLUMN image.ccd_num IS 'CCD number (1 to 18)';
COMMENT ON COLUMN image.amp_num IS 'Amplifier number (1 to 4); NULL for a whole-CCD image';
COMMENT ON COLUMN image.filter IS 'Filter name (NB455 ... NB845, u g r i z Y)';
COMMENT ON COLUMN image.waveband IS 'Kind of band: narrow or broad';
COMMENT ON COLUMN image.wavelength IS 'Central wavelength of the filter (nm)';
COMMENT ON COLUMN image.gain IS 'Gain (e-/ADU)';
COMMENT ON COLUMN image.rdnoise IS 'Read noise (e-)';
COMMENT ON COLUMN image.max_readnoise IS 'Largest read noise of the amplifiers of this image (e-)';
COMMENT ON COLUMN image.naxis1 IS 'Image width (pixels)';
COMMENT ON COLUMN image.naxis2 IS 'Image height (pixels)';
COMMENT ON COLUMN image.ra_min IS 'Smallest right ascension of the footprint (deg)';
COMMENT ON COLUMN image.ra_max IS 'Largest right ascension of the footprint (deg)';
COMMENT ON COLUMN image.dec_min IS 'Smallest declination of the footprint (deg)';
COMMENT ON COLUMN image.dec_max IS 'Largest declination of the footprint (deg)';
COMMENT ON COLUMN image.bkg_mean IS 'Mean background (e-/pixel)';
COMMENT ON COLUMN image.bkg_std IS 'Standard deviation of the background (e-/pixel)';
COMMENT ON COLUMN image.cosmic_ratio IS 'Fraction of pixels flagged as cosmic rays';
COMMENT ON COLUMN image.saturate_ratio IS 'Fraction of saturated pixels';
COMMENT ON COLUMN image.n_extracted IS 'Number of sources detected';
COMMENT ON COLUMN image.psf_fit IS 'Quality (reduced chi-square) of the PSF model fit';
COMMENT ON COLUMN image.psf_fwhm IS 'PSF FWHM (arcsec)';
COMMENT ON COLUMN image.psf_stars IS 'Number of stars used to model the PSF';
COMMENT ON COLUMN image.transparency IS 'Atmospheric transparency (1 = photometric)';
COMMENT ON COLUMN image.zp_nightly IS 'Zero point from the nightly calibration (mag)';
COMMENT ON COLUMN image.zp_nightly_err IS 'Uncertainty of zp_nightly (mag)';
COMMENT ON COLUMN image.zp_nightly_stars IS 'Number of stars behind zp_nightly';

CREATE TABLE crosstalk_ratio (
    production_id integer NOT NULL REFERENCES production (id) ON DELETE CASCADE,
    ccd_num_orig  smallint NOT NULL,
    amp_num_orig  smallint NOT NULL,
    ccd_num_dest  smallint NOT NULL,
    amp_num_dest  smallint NOT NULL,
    ratio         double precision NOT NULL,
    PRIMARY KEY (production_id, ccd_num_orig, amp_num_orig, ccd_num_dest, amp_num_dest)
);
COMMENT ON TABLE crosstalk_ratio IS 'Crosstalk correction to be applied to each amplifier';
COMMENT ON COLUMN crosstalk_ratio.production_id IS 'Production that measured it';
COMMENT ON COLUMN crosstalk_ratio.ccd_num_orig IS 'CCD of the amplifier that causes the crosstalk';
COMMENT ON COLUMN crosstalk_ratio.amp_num_orig IS 'Amplifier that causes the crosstalk';
COMMENT ON COLUMN crosstalk_ratio.ccd_num_dest IS 'CCD of the amplifier that receives it';
COMMENT ON COLUMN crosstalk_ratio.amp_num_dest IS 'Amplifier that receives it';
COMMENT ON COLUMN crosstalk_ratio.ratio IS 'Fraction of the source signal that appears in the destination';

CREATE TABLE detection (
    id              bigserial PRIMARY KEY,
    image_id        bigint NOT NULL REFERENCES image (id) ON DELETE CASCADE,
    insert_date     timestamptz NOT NULL DEFAULT now(),
    band            text,
    background      real,
    class_star      real,
    spread_model    real,
    spreaderr_model real,
    flux_auto       double precision,
    flux_err_auto   double precision,
    flux_psf        double precision,
    flux_err_psf    double precision,
    flux_model      double precision,
    flux_err_model  double precision,
    flags           integer,
    elongation      real,
    ra              double precision,
    dec             double precision,
    x               double precision,
    y               double precision,
    zp_offset       real
);
CREATE INDEX detection_image_idx ON detection (image_id);
CREATE INDEX detection_sky_idx ON detection (dec, ra);
COMMENT ON TABLE detection IS 'Detections measured directly on the image after the nightly data reduction';
COMMENT ON COLUMN detection.id IS 'Detection identifier';
COMMENT ON COLUMN detection.image_id IS 'Image it was detected on';
COMMENT ON COLUMN detection.insert_date IS 'When it was inserted';
COMMENT ON COLUMN detection.band IS 'Band of the image';
COMMENT ON COLUMN detection.background IS 'Local background (e-/pixel)';
COMMENT ON COLUMN detection.class_star IS 'Star/galaxy classifier (1 = star)';
COMMENT ON COLUMN detection.spread_model IS 'Difference between the PSF and a slightly wider model (star/galaxy separation)';
COMMENT ON COLUMN detection.spreaderr_model IS 'Uncertainty of spread_model';
COMMENT ON COLUMN detection.flux_auto IS 'Flux in an adaptive elliptical (Kron) aperture (e-)';
COMMENT ON COLUMN detection.flux_err_auto IS 'Uncertainty of flux_auto (e-)';
COMMENT ON COLUMN detection.flux_psf IS 'Flux from a PSF fit (e-)';
COMMENT ON COLUMN detection.flux_err_psf IS 'Uncertainty of flux_psf (e-)';
COMMENT ON COLUMN detection.flux_model IS 'Flux from a galaxy model fit (e-)';
COMMENT ON COLUMN detection.flux_err_model IS 'Uncertainty of flux_model (e-)';
COMMENT ON COLUMN detection.flags IS 'Extraction flags (bit mask)';
COMMENT ON COLUMN detection.elongation IS 'Ratio of major to minor axis';
COMMENT ON COLUMN detection.ra IS 'Right ascension (deg, ICRS)';
COMMENT ON COLUMN detection.dec IS 'Declination (deg, ICRS)';
COMMENT ON COLUMN detection.x IS 'Column on the image (pixels, FITS 1-based)';
COMMENT ON COLUMN detection.y IS 'Row on the image (pixels, FITS 1-based)';
COMMENT ON COLUMN detection.zp_offset IS 'Zero-point offset applied to the fluxes (mag)';

-- ===================================================================== nightly calibration (table .2)
CREATE TABLE phot_method (
    id                     serial PRIMARY KEY,
    background_method      text,
    background_parameter   text,
    extraction_code        text,
    extraction_method      text,
    extraction_parameter   text,
    scatterlight_method    text,
    scatterlight_parameter text,
    comments               text
);
COMMENT ON TABLE phot_method IS 'Photometric methods';
COMMENT ON COLUMN phot_method.id IS 'Method identifier';
COMMENT ON COLUMN phot_method.background_method IS 'How the background is estimated';
COMMENT ON COLUMN phot_method.background_parameter IS 'Parameters of the background method';
COMMENT ON COLUMN phot_method.extraction_code IS 'Software that measures the fluxes';
COMMENT ON COLUMN phot_method.extraction_method IS 'How fluxes are measured (aperture, PSF, ...)';
COMMENT ON COLUMN phot_method.extraction_parameter IS 'Parameters of the extraction method';
COMMENT ON COLUMN phot_method.scatterlight_method IS 'How scattered light is corrected';
COMMENT ON COLUMN phot_method.scatterlight_parameter IS 'Parameters of the scattered-light correction';
COMMENT ON COLUMN phot_method.comments IS 'Free text';

CREATE TABLE template (
    id             serial PRIMARY KEY,
    template_lib   text NOT NULL,
    template_name  text NOT NULL,
    template_index integer NOT NULL,
    filename       text,
    UNIQUE (template_lib, template_index)
);
COMMENT ON TABLE template IS 'SED of star templates references';
COMMENT ON COLUMN template.id IS 'Template identifier';
COMMENT ON COLUMN template.template_lib IS 'Template library';
COMMENT ON COLUMN template.template_name IS 'Template name (spectral type)';
COMMENT ON COLUMN template.template_index IS 'Index of the template within its library';
COMMENT ON COLUMN template.filename IS 'File with the SED';

CREATE TABLE star_photometry (
    id             bigserial PRIMARY KEY,
    image_id       bigint NOT NULL REFERENCES image (id) ON DELETE CASCADE,
    phot_method_id integer NOT NULL REFERENCES phot_method (id),
    ref_cat        text NOT NULL,
    ref_id         bigint NOT NULL,
    x_image        double precision,
    y_image        double precision,
    flux           double precision,
    flux_err       double precision,
    bg             double precision,
    bg_err         double precision,
    flags          integer
);
CREATE INDEX star_photometry_image_idx ON star_photometry (image_id);
CREATE INDEX star_photometry_ref_idx ON star_photometry (ref_cat, ref_id);
COMMENT ON TABLE star_photometry IS 'Calibration stars fluxes';
COMMENT ON COLUMN star_photometry.id IS 'Measurement identifier';
COMMENT ON COLUMN star_photometry.image_id IS 'Image measured';
COMMENT ON COLUMN star_photometry.phot_method_id IS 'Photometric method used';
COMMENT ON COLUMN star_photometry.ref_cat IS 'Reference catalogue of the star';
COMMENT ON COLUMN star_photometry.ref_id IS 'Identifier of the star in ref_cat';
COMMENT ON COLUMN star_photometry.x_image IS 'Column of the star on the image (pixels)';
COMMENT ON COLUMN star_photometry.y_image IS 'Row of the star on the image (pixels)';
COMMENT ON COLUMN star_photometry.flux IS 'Measured flux (e-)';
COMMENT ON COLUMN star_photometry.flux_err IS 'Uncertainty of flux (e-)';
COMMENT ON COLUMN star_photometry.bg IS 'Background under the star (e-/pixel)';
COMMENT ON COLUMN star_photometry.bg_err IS 'Uncertainty of bg (e-/pixel)';
COMMENT ON COLUMN star_photometry.flags IS 'Measurement flags (bit mask)';

CREATE TABLE star_zp (
    id                 bigserial PRIMARY KEY,
    star_photometry_id bigint NOT NULL REFERENCES star_photometry (id) ON DELETE CASCADE,
    calib_method       text NOT NULL,
    zp                 double precision,
    zp_error           double precision,
    zp_weight          double precision
);
CREATE INDEX star_zp_photometry_idx ON star_zp (star_photometry_id);
COMMENT ON TABLE star_zp IS 'Star zero points calculated in the nightly calibration';
COMMENT ON COLUMN star_zp.id IS 'Star zero-point identifier';
COMMENT ON COLUMN star_zp.star_photometry_id IS 'The star measurement it comes from';
COMMENT ON COLUMN star_zp.calib_method IS 'Calibration method';
COMMENT ON COLUMN star_zp.zp IS 'Zero point (mag)';
COMMENT ON COLUMN star_zp.zp_error IS 'Uncertainty of zp (mag)';
COMMENT ON COLUMN star_zp.zp_weight IS 'Weight of this star in the image zero point';

CREATE TABLE star_template_zp (
    id                   bigserial PRIMARY KEY,
    star_zp_id           bigint NOT NULL REFERENCES star_zp (id) ON DELETE CASCADE,
    template_fit_band_id integer NOT NULL REFERENCES template (id),
    zp                   double precision,
    zp_error             double precision,
    zp_weight            double precision
);
CREATE INDEX star_template_zp_star_idx ON star_template_zp (star_zp_id);
COMMENT ON TABLE star_template_zp IS 'SED template associated with each star';
COMMENT ON COLUMN star_template_zp.id IS 'Identifier';
COMMENT ON COLUMN star_template_zp.star_zp_id IS 'The star zero point';
COMMENT ON COLUMN star_template_zp.template_fit_band_id IS 'The SED template fitted to the star';
COMMENT ON COLUMN star_template_zp.zp IS 'Zero point with this template (mag)';
COMMENT ON COLUMN star_template_zp.zp_error IS 'Uncertainty of zp (mag)';
COMMENT ON COLUMN star_template_zp.zp_weight IS 'Weight of this template (fit likelihood)';

CREATE TABLE image_zp (
    id             bigserial PRIMARY KEY,
    image_id       bigint NOT NULL REFERENCES image (id) ON DELETE CASCADE,
    phot_method_id integer NOT NULL REFERENCES phot_method (id),
    calib_method   text NOT NULL,
    transparency   double precision,
    zp             double precision,
    zp_error       double precision,
    UNIQUE (image_id, phot_method_id, calib_method)
);
COMMENT ON TABLE image_zp IS 'Image zeropoint measurements for each photometry-calibration method';
COMMENT ON COLUMN image_zp.id IS 'Identifier';
COMMENT ON COLUMN image_zp.image_id IS 'Image calibrated';
COMMENT ON COLUMN image_zp.phot_method_id IS 'Photometric method';
COMMENT ON COLUMN image_zp.calib_method IS 'Calibration method';
COMMENT ON COLUMN image_zp.transparency IS 'Atmospheric transparency derived from zp (1 = photometric)';
COMMENT ON COLUMN image_zp.zp IS 'Zero point (mag)';
COMMENT ON COLUMN image_zp.zp_error IS 'Uncertainty of zp (mag)';

-- ===================================================================== memba and catalogues (table .3)
CREATE TABLE forced_aperture (
    production_id       integer NOT NULL REFERENCES production (id) ON DELETE CASCADE,
    image_id            bigint NOT NULL REFERENCES image (id) ON DELETE CASCADE,
    ref_id              bigint NOT NULL,
    pixel_id            bigint,
    aperture_x          double precision,
    aperture_y          double precision,
    aperture_a          double precision,
    aperture_b          double precision,
    aperture_theta      double precision,
    annulus_a_in        double precision,
    annulus_a_out       double precision,
    annulus_b_in        double precision,
    annulus_b_out       double precision,
    annulus_ellipticity double precision,
    annulus_median      double precision,
    annulus_samples     integer,
    annulus_sigma       double precision,
    image_ellipticity   double precision,
    flux                double precision,
    flux_error          double precision,
    flag                integer,
    PRIMARY KEY (production_id, image_id, ref_id)
);
CREATE INDEX forced_aperture_ref_idx ON forced_aperture (production_id, ref_id);
CREATE INDEX forced_aperture_image_idx ON forced_aperture (image_id);
COMMENT ON TABLE forced_aperture IS 'Single measurements of forced photometry in memba, for each band, pass and reference source';
COMMENT ON COLUMN forced_aperture.production_id IS 'memba production';
COMMENT ON COLUMN forced_aperture.image_id IS 'Image measured (gives band and pass)';
COMMENT ON COLUMN forced_aperture.ref_id IS 'Reference source (in the production''s membra_ref_cat)';
COMMENT ON COLUMN forced_aperture.pixel_id IS 'Sky pixel (HEALPix) of the source, for partitioning';
COMMENT ON COLUMN forced_aperture.aperture_x IS 'Aperture centre column (pixels)';
COMMENT ON COLUMN forced_aperture.aperture_y IS 'Aperture centre row (pixels)';
COMMENT ON COLUMN forced_aperture.aperture_a IS 'Aperture semi-major axis (pixels)';
COMMENT ON COLUMN forced_aperture.aperture_b IS 'Aperture semi-minor axis (pixels)';
COMMENT ON COLUMN forced_aperture.aperture_theta IS 'Aperture position angle (deg, from +x towards +y)';
COMMENT ON COLUMN forced_aperture.annulus_a_in IS 'Background annulus inner semi-major axis (pixels)';
COMMENT ON COLUMN forced_aperture.annulus_a_out IS 'Background annulus outer semi-major axis (pixels)';
COMMENT ON COLUMN forced_aperture.annulus_b_in IS 'Background annulus inner semi-minor axis (pixels)';
COMMENT ON COLUMN forced_aperture.annulus_b_out IS 'Background annulus outer semi-minor axis (pixels)';
COMMENT ON COLUMN forced_aperture.annulus_ellipticity IS 'Ellipticity of the annulus (1 - b/a)';
COMMENT ON COLUMN forced_aperture.annulus_median IS 'Median of the annulus pixels (e-/pixel)';
COMMENT ON COLUMN forced_aperture.annulus_samples IS 'Number of annulus pixels used';
COMMENT ON COLUMN forced_aperture.annulus_sigma IS 'Dispersion of the annulus pixels (e-/pixel)';
COMMENT ON COLUMN forced_aperture.image_ellipticity IS 'Ellipticity of the aperture on the image, after PSF convolution';
COMMENT ON COLUMN forced_aperture.flux IS 'Background-subtracted flux in the aperture (e-)';
COMMENT ON COLUMN forced_aperture.flux_error IS 'Uncertainty of flux (e-)';
COMMENT ON COLUMN forced_aperture.flag IS 'Measurement flags (bit mask: masked pixels, edge, saturation, ...)';

CREATE TABLE forced_aperture_coadd (
    production_id integer NOT NULL REFERENCES production (id) ON DELETE CASCADE,
    ref_id        bigint NOT NULL,
    band          text NOT NULL,
    run           integer NOT NULL DEFAULT 1,
    flux          double precision,
    flux_error    double precision,
    chi2          double precision,
    n_coadd       integer,
    PRIMARY KEY (production_id, ref_id, band, run)
);
COMMENT ON TABLE forced_aperture_coadd IS 'Combined measurements of forced photometry in memba, for each band and reference source';
COMMENT ON COLUMN forced_aperture_coadd.production_id IS 'memba production';
COMMENT ON COLUMN forced_aperture_coadd.ref_id IS 'Reference source';
COMMENT ON COLUMN forced_aperture_coadd.band IS 'Band';
COMMENT ON COLUMN forced_aperture_coadd.run IS 'Combination run (several per production when re-combined)';
COMMENT ON COLUMN forced_aperture_coadd.flux IS 'Combined flux (e-/s, zero-point calibrated)';
COMMENT ON COLUMN forced_aperture_coadd.flux_error IS 'Uncertainty of flux';
COMMENT ON COLUMN forced_aperture_coadd.chi2 IS 'Reduced chi-square of the single measurements around flux';
COMMENT ON COLUMN forced_aperture_coadd.n_coadd IS 'Number of single measurements combined';

CREATE TABLE sdss_spec_photo (
    specobjid      bigint PRIMARY KEY,
    objid          bigint,
    _class         text,
    subclass       text,
    survey         text,
    ra             double precision NOT NULL,
    dec            double precision NOT NULL,
    z              real,
    zerr           real,
    zwarning       integer,
    mjd            integer,
    plate          integer,
    fiberid        integer,
    tile           integer,
    mode           smallint,
    extinction_u   real,
    extinction_g   real,
    extinction_r   real,
    extinction_i   real,
    extinction_z   real,
    fibermag_u     real,
    fibermag_g     real,
    fibermag_r     real,
    fibermag_i     real,
    fibermag_z     real,
    fibermagerr_u  real,
    fibermagerr_g  real,
    fibermagerr_r  real,
    fibermagerr_i  real,
    fibermagerr_z  real,
    modelmag_u     real,
    modelmag_g     real,
    modelmag_r     real,
    modelmag_i     real,
    modelmag_z     real,
    modelmagerr_u  real,
    modelmagerr_g  real,
    modelmagerr_r  real,
    modelmagerr_i  real,
    modelmagerr_z  real
);
CREATE INDEX sdss_spec_photo_sky_idx ON sdss_spec_photo (dec, ra);
COMMENT ON TABLE sdss_spec_photo IS 'External table from SDSS DR12 (SpecPhoto view): sources with spectra for forced photometry and validation';
COMMENT ON COLUMN sdss_spec_photo.specobjid IS 'SDSS spectrum identifier (specObjID)';
COMMENT ON COLUMN sdss_spec_photo.objid IS 'SDSS photometric object identifier (objID)';
COMMENT ON COLUMN sdss_spec_photo._class IS 'Spectral class: GALAXY, QSO or STAR';
COMMENT ON COLUMN sdss_spec_photo.subclass IS 'Spectral subclass';
COMMENT ON COLUMN sdss_spec_photo.survey IS 'SDSS survey (sdss, boss, ...)';
COMMENT ON COLUMN sdss_spec_photo.ra IS 'Right ascension (deg)';
COMMENT ON COLUMN sdss_spec_photo.dec IS 'Declination (deg)';
COMMENT ON COLUMN sdss_spec_photo.z IS 'Spectroscopic redshift';
COMMENT ON COLUMN sdss_spec_photo.zerr IS 'Uncertainty of z';
COMMENT ON COLUMN sdss_spec_photo.zwarning IS 'Redshift warning flags (0 = good)';
COMMENT ON COLUMN sdss_spec_photo.mjd IS 'Modified Julian date of the observation';
COMMENT ON COLUMN sdss_spec_photo.plate IS 'Plate number';
COMMENT ON COLUMN sdss_spec_photo.fiberid IS 'Fiber number (fiberID)';
COMMENT ON COLUMN sdss_spec_photo.tile IS 'Tile number';
COMMENT ON COLUMN sdss_spec_photo.mode IS 'Photometric mode: 1 primary, 2 secondary, 3 family';
COMMENT ON COLUMN sdss_spec_photo.extinction_u IS 'Galactic extinction in u (mag)';
COMMENT ON COLUMN sdss_spec_photo.extinction_g IS 'Galactic extinction in g (mag)';
COMMENT ON COLUMN sdss_spec_photo.extinction_r IS 'Galactic extinction in r (mag)';
COMMENT ON COLUMN sdss_spec_photo.extinction_i IS 'Galactic extinction in i (mag)';
COMMENT ON COLUMN sdss_spec_photo.extinction_z IS 'Galactic extinction in z (mag)';
COMMENT ON COLUMN sdss_spec_photo.fibermag_u IS 'Fiber magnitude in u (fiberMag_u)';
COMMENT ON COLUMN sdss_spec_photo.fibermag_g IS 'Fiber magnitude in g (fiberMag_g)';
COMMENT ON COLUMN sdss_spec_photo.fibermag_r IS 'Fiber magnitude in r (fiberMag_r)';
COMMENT ON COLUMN sdss_spec_photo.fibermag_i IS 'Fiber magnitude in i (fiberMag_i)';
COMMENT ON COLUMN sdss_spec_photo.fibermag_z IS 'Fiber magnitude in z (fiberMag_z)';
COMMENT ON COLUMN sdss_spec_photo.fibermagerr_u IS 'Uncertainty of fibermag_u';
COMMENT ON COLUMN sdss_spec_photo.fibermagerr_g IS 'Uncertainty of fibermag_g';
COMMENT ON COLUMN sdss_spec_photo.fibermagerr_r IS 'Uncertainty of fibermag_r';
COMMENT ON COLUMN sdss_spec_photo.fibermagerr_i IS 'Uncertainty of fibermag_i';
COMMENT ON COLUMN sdss_spec_photo.fibermagerr_z IS 'Uncertainty of fibermag_z';
COMMENT ON COLUMN sdss_spec_photo.modelmag_u IS 'Model magnitude in u (modelMag_u)';
COMMENT ON COLUMN sdss_spec_photo.modelmag_g IS 'Model magnitude in g (modelMag_g)';
COMMENT ON COLUMN sdss_spec_photo.modelmag_r IS 'Model magnitude in r (modelMag_r)';
COMMENT ON COLUMN sdss_spec_photo.modelmag_i IS 'Model magnitude in i (modelMag_i)';
COMMENT ON COLUMN sdss_spec_photo.modelmag_z IS 'Model magnitude in z (modelMag_z)';
COMMENT ON COLUMN sdss_spec_photo.modelmagerr_u IS 'Uncertainty of modelmag_u';
COMMENT ON COLUMN sdss_spec_photo.modelmagerr_g IS 'Uncertainty of modelmag_g';
COMMENT ON COLUMN sdss_spec_photo.modelmagerr_r IS 'Uncertainty of modelmag_r';
COMMENT ON COLUMN sdss_spec_photo.modelmagerr_i IS 'Uncertainty of modelmag_i';
COMMENT ON COLUMN sdss_spec_photo.modelmagerr_z IS 'Uncertainty of modelmag_z';

CREATE TABLE membra_ref_cat (
    production_id integer PRIMARY KEY REFERENCES production (id) ON DELETE CASCADE,
    ref_cat       text NOT NULL
);
COMMENT ON TABLE membra_ref_cat IS 'Reference catalog used for a given membra production';
COMMENT ON COLUMN membra_ref_cat.production_id IS 'memba production';
COMMENT ON COLUMN membra_ref_cat.ref_cat IS 'Reference catalogue whose sources were measured (ref_id refers to it)';

CREATE TABLE photoz_bcnz (
    production_id integer NOT NULL REFERENCES production (id) ON DELETE CASCADE,
    ref_id        bigint NOT NULL,
    zb            real,
    zb_mean       real,
    odds          real,
    pz_width      real,
    chi2          real,
    ebv           real,
    n_band        integer,
    PRIMARY KEY (production_id, ref_id)
);
COMMENT ON TABLE photoz_bcnz IS 'Photometric redshifts (BCNz)';
COMMENT ON COLUMN photoz_bcnz.production_id IS 'Photo-z production';
COMMENT ON COLUMN photoz_bcnz.ref_id IS 'Reference source';
COMMENT ON COLUMN photoz_bcnz.zb IS 'Redshift at the peak of the posterior';
COMMENT ON COLUMN photoz_bcnz.zb_mean IS 'Mean redshift of the posterior';
COMMENT ON COLUMN photoz_bcnz.odds IS 'Fraction of the posterior near zb';
COMMENT ON COLUMN photoz_bcnz.pz_width IS 'Width of the posterior';
COMMENT ON COLUMN photoz_bcnz.chi2 IS 'Chi-square of the best-fitting template';
COMMENT ON COLUMN photoz_bcnz.ebv IS 'Fitted internal extinction E(B-V) (mag)';
COMMENT ON COLUMN photoz_bcnz.n_band IS 'Number of bands used';
