#pragma once
// Nights of reduced science mosaics written straight into PAUdb, with numbers that follow
// known rules (for the report's tests and its benchmark at a year's scale). Each
// exposure's values come from `seededExposure`, so that a test computes what the report
// must say from the same rules, and the report finds them through its own SQL (medians of
// the CCD rows).
#include "db/connection.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
#include <algorithm>

namespace paudm::test {

struct SeededExposure {
    std::string night;  ///< YYYY-MM-DD
    std::string date;   ///< date_obs (the next day after midnight)
    std::string time;   ///< time_obs
    double rjd = 0;
    double seeing = 0;       ///< the CCDs' median psf_fwhm (arcsec)
    double transparency = 0; ///< the CCDs' median
    double airmass = 0;
    double astroRms = 0;
    const char* astroStatus = "ok";
    const char* band = "";
    int expNum = 0;
};

inline double seedUniform(std::uint64_t x) { // splitmix64, to [0, 1)
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return static_cast<double>((x ^ (x >> 31)) >> 11) / 9007199254740992.0;
}

/// Exposure k of night n (n days after 2027-01-01), of `perNight` spread from 20:00 to
/// 06:00 UTC: seeing 0.7" to 1.5", one in ten through clouds (transparency 0.3 to 0.8),
/// airmass 1 to 2.2, astrometric rms 0.02" to 0.12", one in thirty not solved.
inline SeededExposure seededExposure(int n, int k, int perNight) {
    static const char* bands[] = {"FT_NB455_NB525", "FT_NB535_NB605", "FT_NB615_NB685", "FT_NB695_NB765", "FT_NB775_NB845"};
    const std::uint64_t key = static_cast<std::uint64_t>(n) * 100003u + static_cast<std::uint64_t>(k) * 7u;
    SeededExposure e;
    const double mjd0 = 61406; // 2027-01-01
    const double hours = 20 + 10.0 * (k + 0.5) / perNight;
    const double mjd = mjd0 + n + hours / 24;
    auto ymd = [](double mjd) { // civil date of an MJD (Fliegel and Van Flandern)
        long jd = static_cast<long>(std::floor(mjd)) + 2400001, l = jd + 68569, nn = 4 * l / 146097;
        l -= (146097 * nn + 3) / 4;
        const long i = 4000 * (l + 1) / 1461001;
        l = l - 1461 * i / 4 + 31;
        const long j = 80 * l / 2447, d = l - 2447 * j / 80;
        l = j / 11;
        char b[64];
        std::snprintf(b, sizeof b, "%04ld-%02ld-%02ld", 100 * (nn - 49) + i + l, j + 2 - 12 * l, d);
        return std::string(b);
    };
    e.night = ymd(mjd0 + n);
    e.date = ymd(mjd);
    const double h = std::fmod(hours, 24.0);
    char t[48];
    std::snprintf(t, sizeof t, "%02d:%02d:%02d", static_cast<int>(h), static_cast<int>(std::fmod(h * 60, 60.0)),
                  static_cast<int>(std::fmod(h * 3600, 60.0)));
    e.time = t;
    e.rjd = mjd + 0.5;
    e.seeing = 0.7 + 0.8 * seedUniform(key);
    e.transparency = seedUniform(key + 1) < 0.1 ? 0.3 + 0.5 * seedUniform(key + 2) : 0.95 + 0.05 * seedUniform(key + 2);
    e.airmass = 1.0 + 1.2 * seedUniform(key + 3);
    e.astroRms = 0.02 + 0.1 * seedUniform(key + 4);
    e.astroStatus = seedUniform(key + 5) < 1.0 / 30 ? "no_match" : "ok";
    e.band = bands[k % 5];
    e.expNum = 50000000 + n * 1000 + k;
    return e;
}

/// The cuts a seeded exposure fails under the survey's first cut set (seeing under 1.3",
/// transparency 0.8 to 1.25, astrometric rms under 0.1", astrometry ok), with seeing under
/// `seeingMax` instead and airmass under `airmassMax` too (0: no airmass cut): straight
/// from the rules above, for a test to hold the report to.
inline std::vector<std::string> expectedFailures(int n, int k, int perNight, double seeingMax = 1.3, double airmassMax = 0) {
    const auto e = seededExposure(n, k, perNight);
    std::vector<std::string> f;
    if (airmassMax > 0 && e.airmass > airmassMax) f.push_back("airmass");
    if (std::string(e.astroStatus) != "ok") f.push_back("astro");
    if (e.astroRms > 0.1) f.push_back("astro_rms");
    if (e.seeing > seeingMax) f.push_back("seeing");
    if (e.transparency < 0.8 || e.transparency > 1.25) f.push_back("transparency");
    return f; // sorted
}

/// Writes `nights` nights of `perNight` reduced science mosaics of `ccds` CCDs each, release
/// `release`, by COPY. The CCDs' psf_fwhm and transparency are spread symmetrically about
/// the exposure's values, so that their medians are those values.
inline void seedNights(db::Connection& c, int nights, int perNight, int ccds, const std::string& release = "R1") {
    const auto p = c.query("INSERT INTO production (pipeline, release, software_version) VALUES ('nightly', $1, 'seeded') "
                           "ON CONFLICT (pipeline, release) DO UPDATE SET software_version = 'seeded' RETURNING id",
                           release);
    const std::string production = std::string(p.text(0, 0));
    std::vector<std::string> obsSetIds;
    for (int n = 0; n < nights; ++n) {
        const std::string night = seededExposure(n, 0, perNight).night;
        const auto r = c.query("INSERT INTO obs_set (obs_set, night) VALUES ($1, $2::date) ON CONFLICT (obs_set) "
                               "DO UPDATE SET night = EXCLUDED.night RETURNING id",
                               night.substr(0, 4) + night.substr(5, 2) + night.substr(8, 2) + "_001", night);
        obsSetIds.push_back(std::string(r.text(0, 0)));
    }
    const std::int64_t base = c.query("SELECT coalesce(max(id), 0) + 1 FROM mosaic").toInt(0, 0);
    int n = 0, k = 0;
    c.copyIn("COPY mosaic (id, obs_set_id, production_id, filename, archivepath, kind, date_obs, time_obs, rjd_obs, airmass, "
             "exp_time, exp_num, filtertray, detrend_status, astro_status, astro_ref_sigma, photo_status, psf_model_status) "
             "FROM STDIN",
             [&](std::string& out) {
                 if (n == nights) return false;
                 const auto e = seededExposure(n, k, perNight);
                 char b[512];
                 std::snprintf(b, sizeof b,
                               "%lld\t%s\t%s\tpaucam.%d.fits\tred/%s/%s\tred_science\t%s\t%s\t%.8f\t%.6f\t120\t%d\t%s\tok\t%s\t"
                               "%.6f\tok\tok\n",
                               static_cast<long long>(base + static_cast<std::int64_t>(n) * perNight + k),
                               obsSetIds[static_cast<std::size_t>(n)].c_str(), production.c_str(), e.expNum, release.c_str(),
                               e.night.c_str(), e.date.c_str(), e.time.c_str(), e.rjd, e.airmass, e.expNum, e.band,
                               e.astroStatus, e.astroRms);
                 out += b;
                 if (++k == perNight) k = 0, ++n;
                 return true;
             });
    c.query("SELECT setval(pg_get_serial_sequence('mosaic', 'id'), (SELECT max(id) FROM mosaic))");
    n = 0, k = 0;
    c.copyIn("COPY image (mosaic_id, image_num, ccd_num, psf_fwhm, psf_stars, transparency, bkg_mean, zp_nightly, "
             "zp_nightly_err, zp_nightly_stars, filter) FROM STDIN",
             [&](std::string& out) {
                 if (n == nights) return false;
                 const auto e = seededExposure(n, k, perNight);
                 const long long id = static_cast<long long>(base + static_cast<std::int64_t>(n) * perNight + k);
                 for (int ccd = 0; ccd < ccds; ++ccd) {
                     const double spread = (ccd - (ccds - 1) / 2.0) / std::max(1, ccds - 1); // -0.5 .. 0.5, symmetric
                     char b[256];
                     std::snprintf(b, sizeof b, "%lld\t%d\t%d\t%.9f\t20\t%.9f\t%.4f\t%.5f\t0.01\t20\tNB%d\n", id, ccd + 1,
                                   ccd + 1, e.seeing * (1 + 0.1 * spread), e.transparency * (1 + 0.02 * spread),
                                   2.0 + ccd * 0.1, 24.5 + 2.5 * std::log10(e.transparency), 455 + 10 * ccd);
                     out += b;
                 }
                 if (++k == perNight) k = 0, ++n;
                 return true;
             });
}

} // namespace paudm::test
