#pragma once
// The simulated sky: a star and a galaxy catalogue defined over the whole sphere by one
// seed, generated on demand in tiles of 0.25 deg of declination. Any two fields of the
// same seed see the same objects where they overlap, so nights simulated apart (and the
// reference catalogues loaded into PAUdb) describe one consistent sky.
//
// Stars: black bodies of 3200-8000 K, r = 14-23 with counts rising 0.15 dex/mag.
// Galaxies: exponential discs (Sersic n = 1) with a half-light radius that shrinks with
// magnitude, i = 17-23 with counts rising 0.33 dex/mag, and a spectrum made of a power-law
// continuum, a 4000 A break and the [OII], Hb, [OIII] and Ha emission lines at their
// redshift: their 40 narrow-band fluxes are the truth that forced photometry must recover.
#include "pipelines/paucam.h"

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace paudm::db {
class Connection;
}

namespace paudm::pipelines::pixelsim {

struct SkyOptions {
    std::uint64_t seed = 1;
    double starDensity = 2000;     ///< stars per deg^2 with 14 < r < 23
    double galaxyDensity = 30000;  ///< galaxies per deg^2 with 17 < i < magLimit
    double galaxyMagLimit = 23.0;
};

/// The epoch (Julian year) of the catalogue's star positions (ref_star.epoch).
constexpr double kCatalogueEpoch = 2016.0;

struct Star {
    std::int64_t sourceId = 0;
    double ra = 0, dec = 0;  ///< deg
    double pmra = 0, pmdec = 0; ///< mas/yr
    double temperature = 0;  ///< K
    double magR = 0;         ///< AB
    /// AB magnitude through a filter.
    double mag(const paucam::Filter& f) const;
    /// Where the star is at `mjd`: its catalogue position (epoch kCatalogueEpoch) moved by
    /// its proper motion, (ra, dec) in degrees. What the simulator draws.
    std::pair<double, double> at(double mjd) const;
};

struct Galaxy {
    std::int64_t sourceId = 0;
    double ra = 0, dec = 0;
    double a = 0, b = 0;   ///< half-light semi-axes (arcsec); r50 = sqrt(a b)
    double theta = 0;      ///< position angle of the major axis, deg east of north
    double redshift = 0;
    double slope = 0;      ///< continuum f_nu ~ lambda_rest^slope
    double break4000 = 1;  ///< continuum ratio across 4000 A
    std::array<double, 4> lineEw{}; ///< rest equivalent widths (nm) of [OII], Hb, [OIII], Ha
    double norm = 1;       ///< continuum f_nu at 500 nm rest (uJy)
    double r50() const;
    /// Flux density averaged over a filter (uJy), emission lines included.
    double flux(const paucam::Filter& f) const;
    double mag(const paucam::Filter& f) const;
};

struct SkyCatalog {
    std::vector<Star> stars;
    std::vector<Galaxy> galaxies;
};

/// Every object within `radiusDeg` of (ra, dec).
SkyCatalog generateSky(double ra, double dec, double radiusDeg, const SkyOptions& options = {});

/// Loads the catalogue into ref_star and ref_galaxy under the catalogue name `name`, in
/// one transaction; objects already there (same catalogue and source_id) are kept as
/// they are. Returns the rows added (stars, galaxies).
std::pair<std::int64_t, std::int64_t> loadSky(db::Connection& c, const SkyCatalog& sky, const std::string& name);

/// Angular distance in degrees.
double angularDistance(double ra1, double dec1, double ra2, double dec2);

} // namespace paudm::pipelines::pixelsim
