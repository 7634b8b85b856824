#include "pipelines/pixelsim/sky.h"

#include "common/random.h"
#include "db/connection.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace paudm::pipelines::pixelsim {

namespace {

constexpr double kTileDeg = 0.25;
constexpr double kDeg = std::numbers::pi / 180.0;
constexpr std::int64_t kPerTile = 1000000; ///< source_id = tile * kPerTile + index

/// Magnitude drawn from counts dN/dm ~ 10^(slope m) between lo and hi.
double drawMagnitude(Rng& rng, double slope, double lo, double hi) {
    const double a = std::pow(10.0, slope * lo), b = std::pow(10.0, slope * hi);
    return std::log10(a + rng.uniform() * (b - a)) / slope;
}

/// Average of fn over a filter's band (midpoint rule).
template <class F>
double bandAverage(const paucam::Filter& f, int steps, F&& fn) {
    double sum = 0;
    for (int i = 0; i < steps; ++i) sum += fn(f.lo() + (i + 0.5) * f.width / steps);
    return sum / steps;
}

/// Planck's B_nu up to a constant, at wavelength l (nm).
double planckNu(double l, double t) {
    constexpr double hcOverK = 1.438777e7; // nm K
    const double nu = 1.0 / l;
    return nu * nu * nu / std::expm1(hcOverK / (l * t));
}

constexpr double kLines[4] = {372.7, 486.1, 500.7, 656.3};

void generateTile(int band, int raIndex, int nRa, const SkyOptions& o, SkyCatalog& out, double ra0, double dec0,
                  double radius) {
    const double decLo = -90 + band * kTileDeg, decHi = std::min(90.0, decLo + kTileDeg);
    const double raWidth = 360.0 / nRa, raLo = raIndex * raWidth;
    const double sinLo = std::sin(decLo * kDeg), sinHi = std::sin(decHi * kDeg);
    const double areaDeg2 = raWidth * kDeg * (sinHi - sinLo) / (kDeg * kDeg);
    const std::int64_t tile = static_cast<std::int64_t>(band) * 2000 + raIndex;
    auto position = [&](Rng& rng, double& ra, double& dec) {
        ra = raLo + rng.uniform() * raWidth;
        dec = std::asin(sinLo + rng.uniform() * (sinHi - sinLo)) / kDeg;
    };
    {
        Rng rng = Rng::stream({o.seed, static_cast<std::uint64_t>(tile), 1});
        const int n = static_cast<int>(rng.poisson(o.starDensity * areaDeg2));
        for (int k = 0; k < n; ++k) {
            Star s;
            s.sourceId = tile * kPerTile + k;
            position(rng, s.ra, s.dec);
            s.pmra = rng.normal(0, 5);
            s.pmdec = rng.normal(0, 5);
            s.temperature = std::exp(rng.uniform(std::log(3200.0), std::log(8000.0)));
            s.magR = drawMagnitude(rng, 0.15, 14, 23);
            if (angularDistance(ra0, dec0, s.ra, s.dec) <= radius) out.stars.push_back(s);
        }
    }
    {
        Rng rng = Rng::stream({o.seed, static_cast<std::uint64_t>(tile), 2});
        const int n = static_cast<int>(rng.poisson(o.galaxyDensity * areaDeg2));
        const paucam::Filter& iBand = paucam::filter("i");
        for (int k = 0; k < n; ++k) {
            Galaxy g;
            g.sourceId = tile * kPerTile + k;
            position(rng, g.ra, g.dec);
            const double magI = drawMagnitude(rng, 0.33, 17, o.galaxyMagLimit);
            const double r50 = 0.8 * std::pow(10.0, -0.12 * (magI - 20)) * std::exp(rng.normal(0, 0.3));
            const double q = rng.uniform(0.2, 1.0);
            g.a = r50 / std::sqrt(q);
            g.b = r50 * std::sqrt(q);
            g.theta = rng.uniform(0, 180);
            g.redshift = std::clamp(rng.normal(0.2 + 0.1 * (magI - 18), 0.25), 0.02, 1.5);
            const double blue = rng.uniform();
            g.slope = 2.2 - 2.4 * blue;
            g.break4000 = 1.9 - 0.8 * blue;
            const double ewHa = 6.0 * blue * blue * std::exp(rng.normal(0, 0.4)); // nm
            g.lineEw = {0.8 * ewHa, 0.25 * ewHa, 0.5 * ewHa, ewHa};
            g.norm = 1;
            g.norm = std::pow(10.0, -0.4 * (magI - 23.9)) / g.flux(iBand);
            if (angularDistance(ra0, dec0, g.ra, g.dec) <= radius) out.galaxies.push_back(g);
        }
    }
}

} // namespace

std::pair<double, double> Star::at(double mjd) const {
    const double years = 2000 + (mjd - 51544.5) / 365.25 - kCatalogueEpoch;
    return {ra + pmra * years / 3.6e6 / std::cos(dec * std::numbers::pi / 180), dec + pmdec * years / 3.6e6};
}

double angularDistance(double ra1, double dec1, double ra2, double dec2) {
    const double s = std::sin((dec2 - dec1) * kDeg / 2), t = std::sin((ra2 - ra1) * kDeg / 2);
    const double h = s * s + std::cos(dec1 * kDeg) * std::cos(dec2 * kDeg) * t * t;
    return 2 * std::asin(std::min(1.0, std::sqrt(h))) / kDeg;
}

double Star::mag(const paucam::Filter& f) const {
    static const paucam::Filter& r = paucam::filter("r");
    const double t = temperature;
    const double ratio = bandAverage(f, 16, [t](double l) { return planckNu(l, t); }) /
                         bandAverage(r, 16, [t](double l) { return planckNu(l, t); });
    return magR - 2.5 * std::log10(ratio);
}

double Galaxy::r50() const { return std::sqrt(a * b); }

double Galaxy::flux(const paucam::Filter& f) const {
    const double z1 = 1 + redshift;
    auto continuum = [&](double l) {
        const double rest = l / z1;
        // The 4000 A break, smoothed over 385-415 nm.
        const double w = std::clamp((rest - 385.0) / 30.0, 0.0, 1.0);
        return norm * std::pow(rest / 500.0, slope) * (w + (1 - w) / break4000);
    };
    double value = bandAverage(f, f.narrow ? 4 : 24, continuum);
    for (int k = 0; k < 4; ++k) {
        const double l = kLines[k] * z1;
        if (l >= f.lo() && l < f.hi()) value += lineEw[k] * z1 * continuum(l) / f.width;
    }
    return value;
}

double Galaxy::mag(const paucam::Filter& f) const { return 23.9 - 2.5 * std::log10(flux(f)); }

SkyCatalog generateSky(double ra, double dec, double radiusDeg, const SkyOptions& options) {
    SkyCatalog out;
    const int bandLo = std::max(0, static_cast<int>(std::floor((dec - radiusDeg + 90) / kTileDeg)));
    const int bandHi = std::min(static_cast<int>(180 / kTileDeg) - 1,
                                static_cast<int>(std::floor((dec + radiusDeg + 90) / kTileDeg)));
    for (int band = bandLo; band <= bandHi; ++band) {
        const double decLo = -90 + band * kTileDeg, decHi = decLo + kTileDeg;
        const double mid = (decLo + decHi) / 2;
        const int nRa = std::max(1, static_cast<int>(std::floor(360 * std::cos(mid * kDeg) / kTileDeg)));
        const double maxAbs = std::min(89.999, std::max(std::abs(decLo), std::abs(decHi)));
        const double halfWidth = radiusDeg / std::cos(maxAbs * kDeg);
        const double width = 360.0 / nRa;
        if (halfWidth >= 180 || nRa == 1) {
            for (int i = 0; i < nRa; ++i) generateTile(band, i, nRa, options, out, ra, dec, radiusDeg);
            continue;
        }
        const int first = static_cast<int>(std::floor((ra - halfWidth) / width));
        const int last = static_cast<int>(std::floor((ra + halfWidth) / width));
        for (int i = first; i <= last && i < first + nRa; ++i)
            generateTile(band, ((i % nRa) + nRa) % nRa, nRa, options, out, ra, dec, radiusDeg);
    }
    return out;
}

std::pair<std::int64_t, std::int64_t> loadSky(db::Connection& c, const SkyCatalog& sky, const std::string& name) {
    const auto& fl = paucam::filters();
    auto num = [](double v) {
        char text[32];
        std::snprintf(text, sizeof text, "%.9g", v);
        return std::string(text);
    };
    auto array = [&](auto&& valueOf) {
        std::string s = "{";
        for (int i = 0; i < 40; ++i) s += (i ? "," : "") + num(valueOf(fl[i]));
        return s + "}";
    };
    db::Transaction tx(c);
    c.exec("CREATE TEMP TABLE sim_star (LIKE ref_star INCLUDING DEFAULTS) ON COMMIT DROP");
    c.exec("CREATE TEMP TABLE sim_galaxy (LIKE ref_galaxy INCLUDING DEFAULTS) ON COMMIT DROP");
    std::size_t i = 0;
    c.copyIn("COPY sim_star (catalogue, source_id, ra, dec, pmra, pmdec, mag_u, mag_g, mag_r, mag_i, mag_z, mag_y, "
             "mag_nb) FROM STDIN",
             [&](std::string& buf) {
                 for (; i < sky.stars.size() && buf.size() < (1 << 20); ++i) {
                     const Star& s = sky.stars[i];
                     std::vector<db::Param> f = {name, std::to_string(s.sourceId), num(s.ra), num(s.dec), num(s.pmra),
                                                 num(s.pmdec)};
                     for (int b = 40; b < 46; ++b) f.push_back(num(s.mag(fl[b])));
                     f.push_back(array([&](const paucam::Filter& x) { return s.mag(x); }));
                     for (std::size_t k = 0; k < f.size(); ++k) {
                         if (k) buf += '\t';
                         db::Connection::appendCopyField(buf, f[k]);
                     }
                     buf += '\n';
                 }
                 return i < sky.stars.size();
             });
    i = 0;
    c.copyIn("COPY sim_galaxy (catalogue, source_id, ra, dec, a, b, theta, r50, sersic_n, redshift, mag_u, mag_g, "
             "mag_r, mag_i, mag_z, mag_y, flux_nb) FROM STDIN",
             [&](std::string& buf) {
                 for (; i < sky.galaxies.size() && buf.size() < (1 << 20); ++i) {
                     const Galaxy& g = sky.galaxies[i];
                     std::vector<db::Param> f = {name,         std::to_string(g.sourceId), num(g.ra),  num(g.dec),
                                                 num(g.a),     num(g.b),                   num(g.theta), num(g.r50()),
                                                 std::string("1"), num(g.redshift)};
                     for (int b = 40; b < 46; ++b) f.push_back(num(g.mag(fl[b])));
                     f.push_back(array([&](const paucam::Filter& x) { return g.flux(x); }));
                     for (std::size_t k = 0; k < f.size(); ++k) {
                         if (k) buf += '\t';
                         db::Connection::appendCopyField(buf, f[k]);
                     }
                     buf += '\n';
                 }
                 return i < sky.galaxies.size();
             });
    const auto stars = c.exec("INSERT INTO ref_star (catalogue, source_id, ra, dec, pmra, pmdec, mag_u, mag_g, mag_r, "
                              "mag_i, mag_z, mag_y, mag_nb) SELECT catalogue, source_id, ra, dec, pmra, pmdec, mag_u, "
                              "mag_g, mag_r, mag_i, mag_z, mag_y, mag_nb FROM sim_star ON CONFLICT DO NOTHING")
                           .affected();
    const auto galaxies =
        c.exec("INSERT INTO ref_galaxy (catalogue, source_id, ra, dec, a, b, theta, r50, sersic_n, redshift, mag_u, "
               "mag_g, mag_r, mag_i, mag_z, mag_y, flux_nb) SELECT catalogue, source_id, ra, dec, a, b, theta, r50, "
               "sersic_n, redshift, mag_u, mag_g, mag_r, mag_i, mag_z, mag_y, flux_nb FROM sim_galaxy "
               "ON CONFLICT DO NOTHING")
            .affected();
    tx.commit();
    return {stars, galaxies};
}

} // namespace paudm::pipelines::pixelsim
