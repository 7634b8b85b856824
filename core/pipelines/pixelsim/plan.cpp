// The night plan of pixelsim: when each exposure is taken, where the telescope points
// and what the sky and the weather are like.
#include "common/random.h"
#include "pipelines/pixelsim/simulator.h"

#include <QDate>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

namespace paudm::pipelines::pixelsim {

namespace {

constexpr double kDeg = std::numbers::pi / 180.0;
constexpr double kLatitude = 28.7606;   ///< Roque de los Muchachos (deg)
constexpr double kLongitude = -17.8816; ///< east positive (deg)
constexpr double kMinute = 1.0 / 1440.0;

double wrap360(double a) {
    a = std::fmod(a, 360.0);
    return a < 0 ? a + 360 : a;
}

/// Local sidereal time (deg) at an MJD (UTC taken as UT1).
double lst(double mjd) {
    const double jd = mjd + 2400000.5;
    return wrap360(280.46061837 + 360.98564736629 * (jd - 2451545.0) + kLongitude);
}

double altitude(double ra, double dec, double mjd) {
    const double h = (lst(mjd) - ra) * kDeg;
    const double s = std::sin(kLatitude * kDeg) * std::sin(dec * kDeg) +
                     std::cos(kLatitude * kDeg) * std::cos(dec * kDeg) * std::cos(h);
    return std::asin(std::clamp(s, -1.0, 1.0)) / kDeg;
}

/// Ecliptic longitude (deg) -> RA, Dec (deg), ecliptic latitude 0.
void eclipticToEquatorial(double lambda, double d, double& ra, double& dec) {
    const double eps = (23.439 - 4e-7 * d) * kDeg, l = lambda * kDeg;
    ra = wrap360(std::atan2(std::cos(eps) * std::sin(l), std::cos(l)) / kDeg);
    dec = std::asin(std::sin(eps) * std::sin(l)) / kDeg;
}

/// The Sun's apparent ecliptic longitude (deg), low-precision formula (0.01 deg).
double sunLongitude(double d) {
    const double g = wrap360(357.528 + 0.9856003 * d) * kDeg;
    return wrap360(280.460 + 0.9856474 * d + 1.915 * std::sin(g) + 0.020 * std::sin(2 * g));
}

double sunAltitude(double mjd) {
    const double d = mjd + 2400000.5 - 2451545.0;
    double ra, dec;
    eclipticToEquatorial(sunLongitude(d), d, ra, dec);
    return altitude(ra, dec, mjd);
}

/// The Moon, to a few degrees: its elongation from the mean synodic month, on the
/// ecliptic. Enough for how bright it makes the sky.
void moon(double mjd, double& alt, double& illumination) {
    const double jd = mjd + 2400000.5, d = jd - 2451545.0;
    const double age = std::fmod(jd - 2451550.1, 29.530588853);
    const double elongation = 360.0 * age / 29.530588853;
    double ra, dec;
    eclipticToEquatorial(wrap360(sunLongitude(d) + elongation), d, ra, dec);
    alt = altitude(ra, dec, mjd);
    illumination = (1 - std::cos(elongation * kDeg)) / 2;
}

/// Airmass of Kasten & Young (1989) from the altitude (deg).
double airmassAt(double alt) {
    if (alt <= 0) return 40;
    return 1.0 / (std::sin(alt * kDeg) + 0.50572 * std::pow(alt + 6.07995, -1.6364));
}

/// A smooth random function of the time of night with unit variance.
struct Smooth {
    double amp[4], period[4], phase[4];
    explicit Smooth(Rng& rng) {
        for (int k = 0; k < 4; ++k) {
            amp[k] = std::sqrt(2.0 / 4);
            period[k] = rng.uniform(0.6, 6.0); // hours
            phase[k] = rng.uniform(0, 2 * std::numbers::pi);
        }
    }
    double operator()(double hours) const {
        double v = 0;
        for (int k = 0; k < 4; ++k) v += amp[k] * std::sin(2 * std::numbers::pi * hours / period[k] + phase[k]);
        return v;
    }
};

double findCrossing(double from, double step, double altitudeLimit, bool descending) {
    double t = from;
    for (int i = 0; i < 2 * 1440; ++i, t += step) {
        const double a = sunAltitude(t);
        if (descending ? a < altitudeLimit : a > altitudeLimit) return t;
    }
    return t;
}

} // namespace

double seeingFwhm(const ExposurePlan& e, const paucam::Filter& f) {
    const double atm = e.seeing * std::pow(f.centre / 500.0, -0.2) * std::pow(e.airmass, 0.6);
    return std::sqrt(atm * atm + e.defocusFwhm * e.defocusFwhm);
}

double darkSkyRate(const paucam::Filter& f) {
    // Dark-sky surface brightness at La Palma (AB mag/arcsec^2) against wavelength.
    static constexpr double table[][2] = {{350, 22.3}, {450, 22.0}, {550, 21.3}, {650, 20.7},
                                          {750, 20.0}, {850, 19.2}, {950, 18.3}, {1050, 17.7}};
    double mu = table[0][1];
    for (std::size_t i = 1; i < std::size(table); ++i)
        if (f.centre <= table[i][0] || i + 1 == std::size(table)) {
            const double t = (f.centre - table[i - 1][0]) / (table[i][0] - table[i - 1][0]);
            mu = table[i - 1][1] + std::clamp(t, 0.0, 1.0) * (table[i][1] - table[i - 1][1]);
            break;
        }
    const double pixelArea = paucam::kPixelScale * paucam::kPixelScale;
    return std::pow(10.0, -0.4 * (mu - paucam::zeroPoint(f))) * pixelArea;
}

double skyRate(const ExposurePlan& e, const paucam::Filter& f) {
    if (e.kind == "bias" || e.kind == "flat") return 0;
    // Twilight: nothing below -18 deg, ten times the dark sky at -12 deg.
    const double twilight = e.sunAlt > -18 ? std::pow(10.0, (e.sunAlt + 18) / 6) - 1 : 0;
    // Moonlight, bluer than the dark sky.
    const double moonlight = e.moonAlt > 0
                                 ? 8 * e.moonIllumination * std::sin(e.moonAlt * kDeg) * std::pow(f.centre / 550, -1.5)
                                 : 0;
    return darkSkyRate(f) * (1 + twilight + moonlight) * std::sqrt(e.airmass);
}

/// The evening a night starts (YYYY-MM-DD).
QDate nightDate(const std::string& night) {
    const QDate date = QDate::fromString(QString::fromStdString(night), Qt::ISODate);
    if (!date.isValid()) throw Error("night '" + night + "' is not a date (YYYY-MM-DD)");
    return date;
}

double meridianAtMidnight(const std::string& night) {
    const QDate date = nightDate(night);
    // Local solar midnight: 0 h UT of the next day (the Julian day number counts from
    // noon), less the longitude's hours.
    const double midnight = static_cast<double>(date.toJulianDay()) - 2400001.0 + 1 - kLongitude / 360;
    return lst(midnight);
}

NightPlan planNight(const NightOptions& o, int counter) {
    const QDate date = nightDate(o.night);
    if (o.trays.empty()) throw Error("no filter trays given");
    for (const auto& t : o.trays) paucam::tray(t); // throws for an unknown tray
    if (o.bias < 0 || o.flatsPerTray < 0 || o.science < 0 || o.focus < 0)
        throw Error("exposure counts must not be negative");
    const std::vector<std::string> flatTrays = o.flatTrays ? *o.flatTrays : o.trays;
    for (const auto& t : flatTrays)
        if (std::find(o.trays.begin(), o.trays.end(), paucam::tray(t).name) == o.trays.end())
            throw Error("flats asked for " + t + ", which is not one of the night's trays");
    const int total = o.bias + o.flatsPerTray * static_cast<int>(flatTrays.size()) + o.science + o.focus;
    if (total == 0) throw Error("nothing to simulate: every exposure count is 0");
    if (total > 999) throw Error("at most 999 exposures per obs set (asked for " + std::to_string(total) + ")");

    NightPlan plan;
    plan.obsSet = archive::obsSetName(o.night, counter);
    plan.seed = o.seed ? *o.seed : hashKey({static_cast<std::uint64_t>(date.toJulianDay())});
    const double noon = static_cast<double>(date.toJulianDay()) - 2400001.0 + 12.0 / 24; // MJD, 12h UT
    plan.sunsetMjd = findCrossing(noon, kMinute, -0.833, true);
    plan.duskMjd = findCrossing(plan.sunsetMjd, kMinute, -12, true);
    plan.dawnMjd = findCrossing(plan.duskMjd + 4.0 / 24, kMinute, -12, false);

    Rng night = Rng::stream({plan.seed, 0x6e69676874}); // "night"
    const double drawnSeeing = 0.65 * std::exp(night.normal(0, 0.25));
    const double seeingBase = o.seeing ? *o.seeing : drawnSeeing;
    const double cloudiness = night.uniform() < 0.6 ? 0.0 : night.uniform(0.05, 0.5);
    const double tempBase = night.normal(8, 3), humidityBase = night.uniform(20, 70);
    const double pressureBase = night.normal(775, 3), windBase = night.uniform(2, 10), windDirBase = night.uniform(0, 360);
    const double bestFocus = night.normal(4.15, 0.03);
    const Smooth sSeeing(night), sCloud(night), sTemp(night), sHum(night), sPres(night), sWind(night), sDir(night);

    const std::int64_t days = QDate(2015, 1, 1).daysTo(date);
    auto add = [&](const std::string& kind, const std::string& tray, double mjd, double exptime, double ra,
                   double dec) -> ExposurePlan& {
        ExposurePlan e;
        e.index = static_cast<int>(plan.exposures.size());
        e.kind = kind;
        e.tray = paucam::tray(tray).name;
        e.expnum = days * 10000 + (counter - 1) * 1000 + e.index + 1;
        char name[40];
        std::snprintf(name, sizeof name, "paucam.%07lld.fits", e.expnum);
        e.file = name;
        e.mjd = mjd;
        e.exptime = exptime;
        e.nominalRa = wrap360(ra);
        e.nominalDec = dec;
        Rng rng = Rng::stream({plan.seed, 0x6578706f, static_cast<std::uint64_t>(e.index)}); // "expo"
        // Pointing error (arcsec) and field rotation: what astrometry has to find.
        const double dx = rng.normal(0, 6), dy = rng.normal(0, 6);
        e.trueDec = dec + dy / 3600;
        e.trueRa = wrap360(ra + dx / 3600 / std::cos(e.trueDec * kDeg));
        e.rotationDeg = rng.normal(0, 0.02);
        const double hours = (mjd - plan.sunsetMjd) * 24;
        const bool onSky = kind == "science" || kind == "focus";
        e.airmass = onSky ? airmassAt(altitude(e.trueRa, e.trueDec, mjd)) : 1.0;
        e.seeing = seeingBase * std::exp(0.2 * sSeeing(hours));
        e.transparency = onSky ? std::clamp(1 - cloudiness * std::clamp(0.5 + 0.7 * sCloud(hours), 0.0, 1.0), 0.2, 1.0)
                               : 1.0;
        e.sunAlt = sunAltitude(mjd);
        moon(mjd, e.moonAlt, e.moonIllumination);
        e.telfocus = bestFocus;
        e.ambientTemp = tempBase - 0.3 * std::max(0.0, hours) + 0.5 * sTemp(hours);
        e.humidity = std::clamp(humidityBase + 10 * sHum(hours), 2.0, 100.0);
        e.pressure = pressureBase + 0.8 * sPres(hours);
        e.windSpeed = windBase * std::exp(0.3 * sWind(hours));
        e.windDir = wrap360(windDirBase + 25 * sDir(hours));
        if (onSky) {
            e.guideFwhm = e.seeing * std::pow(e.airmass, 0.6) * std::pow(650 / 500.0, -0.2) * (1 + rng.normal(0, 0.03));
            e.guideVar = std::abs(rng.normal(0.08, 0.03));
        }
        plan.exposures.push_back(e);
        return plan.exposures.back();
    };

    const std::string& firstTray = o.trays.front();
    for (int i = 0; i < o.bias; ++i) add("bias", firstTray, plan.sunsetMjd - 100 * kMinute + i * 0.5 * kMinute, 0, 0, 0);
    int n = 0;
    for (const auto& t : flatTrays) {
        const bool nb = paucam::tray(t).narrow();
        for (int j = 0; j < o.flatsPerTray; ++j, ++n) {
            const double mjd = plan.sunsetMjd - 80 * kMinute + n * kMinute;
            auto& e = add("flat", t, mjd, nb ? 10 : 3, lst(mjd), kLatitude); // dome flats: telescope at zenith
            Rng rng = Rng::stream({plan.seed, 0x6c616d70, static_cast<std::uint64_t>(e.index)}); // "lamp"
            e.lampElectrons = 25000 * rng.uniform(0.9, 1.1);
        }
    }
    double start = plan.duskMjd;
    for (int k = 0; k < o.focus; ++k) {
        auto& e = add("focus", firstTray, start, 30, o.ra, o.dec);
        const double step = (k - (o.focus - 1) / 2.0) * 0.1; // mm
        e.telfocus = bestFocus + step;
        e.defocusFwhm = 2.5 * std::abs(step) / 0.1;
        start += 1.5 * kMinute;
    }
    static constexpr double dither[5][2] = {{0, 0}, {3, 2}, {-3, -2}, {2, -3}, {-2, 3}}; // arcmin
    const int nt = static_cast<int>(o.trays.size());
    if (o.science > 0) {
        const double longest = 100 + 40; // s, exposure and overheads
        double end = plan.dawnMjd;
        if (o.maxAirmass) { // only while the field is up
            std::optional<double> first, last;
            for (double t = start; t <= plan.dawnMjd; t += kMinute)
                if (airmassAt(altitude(o.ra, o.dec, t)) <= *o.maxAirmass) {
                    if (!first) first = t;
                    last = t;
                }
            if (!first)
                throw Error(QString("the field (%1, %2) is never below airmass %3 in the dark of %4")
                                .arg(o.ra)
                                .arg(o.dec)
                                .arg(*o.maxAirmass)
                                .arg(QString::fromStdString(o.night))
                                .toStdString());
            start = *first;
            end = *last;
        }
        const double spacing = std::max((end - start) / o.science, longest / 86400);
        for (int i = 0; i < o.science; ++i) {
            const std::string& t = o.trays[i % nt];
            const auto& d = dither[(i / nt) % 5];
            const double dec = o.dec + d[1] / 60;
            auto& e = add("science", t, start + (i + 0.5) * spacing, paucam::tray(t).narrow() ? 100 : 45,
                          o.ra + d[0] / 60 / std::cos(dec * kDeg), dec);
            if (const auto it = o.badScience.find(i); it != o.badScience.end()) {
                if (it->second.transparency) e.transparency = *it->second.transparency;
                if (it->second.defocusFwhm) e.defocusFwhm = *it->second.defocusFwhm;
                if (it->second.seeing) e.seeing = *it->second.seeing;
                if (it->second.starFraction) e.starFraction = std::clamp(*it->second.starFraction, 0.0, 1.0);
            }
        }
    }
    return plan;
}

} // namespace paudm::pipelines::pixelsim
