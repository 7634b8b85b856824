-- Reference catalogues, in the spirit of the paper's table .5: stars for astrometric and
-- photometric calibration, galaxies (with shapes) for forced photometry.

CREATE TABLE ref_star (
    id        bigserial PRIMARY KEY,
    catalogue text NOT NULL,
    source_id bigint NOT NULL,
    ra        double precision NOT NULL,
    dec       double precision NOT NULL,
    pmra      real,
    pmdec     real,
    mag_u     real,
    mag_g     real,
    mag_r     real,
    mag_i     real,
    mag_z     real,
    mag_y     real,
    mag_nb    real[],
    UNIQUE (catalogue, source_id)
);
CREATE INDEX ref_star_sky_idx ON ref_star (dec, ra);
COMMENT ON TABLE ref_star IS 'Reference star catalogue for astrometric and photometric calibration';
COMMENT ON COLUMN ref_star.id IS 'Row identifier';
COMMENT ON COLUMN ref_star.catalogue IS 'Catalogue the star comes from (gaia_dr2, pixelsim, ...)';
COMMENT ON COLUMN ref_star.source_id IS 'Identifier of the star in its catalogue';
COMMENT ON COLUMN ref_star.ra IS 'Right ascension (deg, ICRS, at the catalogue epoch)';
COMMENT ON COLUMN ref_star.dec IS 'Declination (deg, ICRS, at the catalogue epoch)';
COMMENT ON COLUMN ref_star.pmra IS 'Proper motion in right ascension times cos(dec) (mas/yr)';
COMMENT ON COLUMN ref_star.pmdec IS 'Proper motion in declination (mas/yr)';
COMMENT ON COLUMN ref_star.mag_u IS 'AB magnitude in u';
COMMENT ON COLUMN ref_star.mag_g IS 'AB magnitude in g';
COMMENT ON COLUMN ref_star.mag_r IS 'AB magnitude in r';
COMMENT ON COLUMN ref_star.mag_i IS 'AB magnitude in i';
COMMENT ON COLUMN ref_star.mag_z IS 'AB magnitude in z';
COMMENT ON COLUMN ref_star.mag_y IS 'AB magnitude in Y';
COMMENT ON COLUMN ref_star.mag_nb IS 'AB magnitudes in the 40 narrow bands NB455 ... NB845, in wavelength order';

CREATE TABLE ref_galaxy (
    id        bigserial PRIMARY KEY,
    catalogue text NOT NULL,
    source_id bigint NOT NULL,
    ra        double precision NOT NULL,
    dec       double precision NOT NULL,
    a         real,
    b         real,
    theta     real,
    r50       real,
    sersic_n  real,
    redshift  real,
    mag_u     real,
    mag_g     real,
    mag_r     real,
    mag_i     real,
    mag_z     real,
    mag_y     real,
    flux_nb   double precision[],
    UNIQUE (catalogue, source_id)
);
CREATE INDEX ref_galaxy_sky_idx ON ref_galaxy (dec, ra);
COMMENT ON TABLE ref_galaxy IS 'Reference galaxy catalogue for forced photometry';
COMMENT ON COLUMN ref_galaxy.id IS 'Row identifier (the ref_id of forced photometry)';
COMMENT ON COLUMN ref_galaxy.catalogue IS 'Catalogue the galaxy comes from (cfhtlens, cosmos, pixelsim, ...)';
COMMENT ON COLUMN ref_galaxy.source_id IS 'Identifier of the galaxy in its catalogue';
COMMENT ON COLUMN ref_galaxy.ra IS 'Right ascension (deg, ICRS)';
COMMENT ON COLUMN ref_galaxy.dec IS 'Declination (deg, ICRS)';
COMMENT ON COLUMN ref_galaxy.a IS 'Semi-major axis of the light profile (arcsec)';
COMMENT ON COLUMN ref_galaxy.b IS 'Semi-minor axis of the light profile (arcsec)';
COMMENT ON COLUMN ref_galaxy.theta IS 'Position angle of the major axis (deg, east of north)';
COMMENT ON COLUMN ref_galaxy.r50 IS 'Half-light radius (arcsec)';
COMMENT ON COLUMN ref_galaxy.sersic_n IS 'Sersic index of the profile';
COMMENT ON COLUMN ref_galaxy.redshift IS 'Redshift (spectroscopic or true, for simulations)';
COMMENT ON COLUMN ref_galaxy.mag_u IS 'AB magnitude in u';
COMMENT ON COLUMN ref_galaxy.mag_g IS 'AB magnitude in g';
COMMENT ON COLUMN ref_galaxy.mag_r IS 'AB magnitude in r';
COMMENT ON COLUMN ref_galaxy.mag_i IS 'AB magnitude in i';
COMMENT ON COLUMN ref_galaxy.mag_z IS 'AB magnitude in z';
COMMENT ON COLUMN ref_galaxy.mag_y IS 'AB magnitude in Y';
COMMENT ON COLUMN ref_galaxy.flux_nb IS 'Fluxes in the 40 narrow bands NB455 ... NB845 (microJansky), the truth for simulations';
